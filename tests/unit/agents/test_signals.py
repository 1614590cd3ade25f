"""Tag, care, risk and service rules end as signals on their topics, once per cooldown, with evidence."""

from __future__ import annotations

from agents.decode import RawRecord
from agents.outputs import OutputRecord, stable_id
from rules.load.ruleset import Ruleset
from schemas.catalog import SERVICE_ALERTS, SIGNALS
from schemas.outputs import CustomerSignal, SignalKind
from tests.support.pipeline_story import process, records
from tests.support.story import encoded, interaction


def signals(outputs: list[OutputRecord], topic: str) -> list[CustomerSignal]:
    found = [o.value for o in outputs if o.topic == topic]
    assert all(isinstance(s, CustomerSignal) for s in found)
    return [s for s in found if isinstance(s, CustomerSignal)]


def test_complaint_past_its_sla_gives_one_service_alert(redis_url: str, ruleset: Ruleset) -> None:
    outputs = process(redis_url, ruleset, [records()])
    service = signals(outputs, SERVICE_ALERTS)
    # GRUMPY's complaint (day 50) is still open at his next event (day 57): 170 hours > 48
    assert [(s.customer_id, s.rule_id, s.trigger_event_id) for s in service] == [
        ("GRUMPY", "service.complaint_sla_breached", "GRUMPY-login57")
    ]
    alert = service[0]
    assert alert.kind is SignalKind.SERVICE and alert.severity == "high"
    assert alert.evidence["profile.oldest_open_complaint_hours"] == 7 * 24
    assert alert.message == "Complaint CMP-7 open for 168 hours (SLA 48 hours)"
    assert alert.signal_id == stable_id(
        "signal", "GRUMPY", alert.rule_id, "CMP-7", "GRUMPY-login57", ruleset.version
    )


def test_each_complaint_gets_exactly_one_sla_alert(redis_url: str, ruleset: Ruleset) -> None:
    late = [interaction("GRUMPY", f"login{day}", day, "login") for day in (60, 80, 120)]
    second = interaction("GRUMPY", "cmp2", 121, "complaint_opened", reference="CMP-8")
    fixed = interaction("GRUMPY", "fix", 122, "complaint_resolved", reference="CMP-7")
    after = interaction("GRUMPY", "login130", 130, "login")
    extra = [*late, second, fixed, after]
    batch = [r for r in records() if r.key == b"GRUMPY"]
    batch += [RawRecord(m[0], 0, 900 + i, b"GRUMPY", encoded(m)) for i, m in enumerate(extra)]
    service = signals(process(redis_url, ruleset, [batch]), SERVICE_ALERTS)
    # CMP-7 stays open for months: one alert; CMP-8 (opened later) gets its own once it is overdue
    assert [(s.trigger_event_id, s.message.split()[1]) for s in service] == [
        ("GRUMPY-login57", "CMP-7"),
        ("GRUMPY-login130", "CMP-8"),
    ]


def test_a_tag_is_announced_when_gained_and_when_lost_never_while_held(
    redis_url: str, ruleset: Ruleset
) -> None:
    outputs = process(redis_url, ruleset, [records()])
    tags = [
        (s.customer_id, s.tag, s.tag_change, s.trigger_event_id)
        for s in signals(outputs, SIGNALS)
        if s.kind == "tag" and s.tag == "salary_payer"
    ]
    # The second salary makes both paid customers salary payers; LOYAL's later salaries keep the tag
    # (no announcement while held); DRIFT's salary stops, so more than 35 days on it is lost.
    assert tags == [
        ("DRIFT", "salary_payer", "gained", "DRIFT-sal1"),
        ("LOYAL", "salary_payer", "gained", "LOYAL-sal1"),
        ("DRIFT", "salary_payer", "lost", "DRIFT-card"),
    ]
    ids = [s.signal_id for s in signals(outputs, SIGNALS) if s.kind == "tag"]
    assert len(set(ids)) == len(ids)


def test_the_same_batch_again_announces_no_new_tag_change(redis_url: str, ruleset: Ruleset) -> None:
    batch = records()
    first = {
        s.signal_id: s for s in signals(process(redis_url, ruleset, [batch]), SIGNALS) if s.kind == "tag"
    }
    # a re-delivery: every event already applied; a change is at most re-emitted under its own id
    # (the first delivery may not have reached the broker), never made a second time
    again = [s for s in signals(process(redis_url, ruleset, [batch]), SIGNALS) if s.kind == "tag"]
    assert first and {s.signal_id for s in again} <= set(first)
    assert all(s.tag_change == first[s.signal_id].tag_change for s in again)


def test_care_signal_follows_a_resolved_complaint(redis_url: str, ruleset: Ruleset) -> None:
    resolved = interaction("GRUMPY", "fix", 58, "complaint_resolved", reference="CMP-7")
    extra = [r for r in records() if r.key == b"GRUMPY"]
    batch = [*extra, RawRecord(resolved[0], 0, 999, b"GRUMPY", encoded(resolved))]
    care = [s for s in signals(process(redis_url, ruleset, [batch]), SIGNALS) if s.kind == "care"]
    assert [(s.rule_id, s.trigger_event_id) for s in care] == [
        ("care.complaint_resolved_follow_up", "GRUMPY-fix")
    ]
    assert care[0].action.startswith("Call within 2 days")
