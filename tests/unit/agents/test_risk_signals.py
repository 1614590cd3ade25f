"""Risk rules end as one risk signal per trigger on the risk topic: every risk rule that held and was
out of its own cooldown a reason, a combined score, the strongest recommended action, a stable id."""

from __future__ import annotations

from datetime import datetime, timedelta

import redis

from agents.decode import RawRecord
from agents.metrics import Metrics
from agents.outputs import OutputRecord, combined_score, risk_id, risk_level
from rules.load.ruleset import Ruleset
from schemas.catalog import RISK_SIGNALS, SIGNALS
from schemas.outputs import CustomerSignal, NextBestOffer, RecommendedAction, RiskLevel, RiskSignal
from tests.support.pipeline_story import process, records
from tests.support.risk_story import (
    CUSTOMER,
    EXPECTED_RULES,
    EXPECTED_SCORE,
    TAKEOVER_EVENT,
    risk_story,
)
from tests.support.story import Message, encoded


def raw(messages: list[Message], first_offset: int = 0) -> list[RawRecord]:
    return [
        RawRecord(topic, 0, first_offset + i, body["customer_id"].encode(), encoded((topic, body)))
        for i, (topic, body) in enumerate(messages)
    ]


def risks(outputs: list[OutputRecord]) -> list[RiskSignal]:
    found = [o.value for o in outputs if o.topic == RISK_SIGNALS]
    assert all(isinstance(s, RiskSignal) for s in found)
    return [s for s in found if isinstance(s, RiskSignal)]


def later(message: Message, n: str, minutes: int, **changes: object) -> Message:
    """``message`` again as a new event ``minutes`` after it."""
    topic, body = message
    at = datetime.fromisoformat(body["occurred_at"]) + timedelta(minutes=minutes)
    return topic, {**body, "event_id": f"{CUSTOMER}-{n}", "occurred_at": at.isoformat(), **changes}


def test_a_new_device_then_a_large_transfer_to_a_new_payee_gives_one_risk_signal(
    redis_url: str, ruleset: Ruleset
) -> None:
    outputs = process(redis_url, ruleset, [raw(risk_story())])
    [signal] = risks(outputs)
    assert signal.trigger_event_id == TAKEOVER_EVENT and signal.customer_id == CUSTOMER
    assert [r.rule_id for r in signal.reasons] == EXPECTED_RULES
    assert signal.rule_id == EXPECTED_RULES[0]
    assert (signal.score, signal.level) == (EXPECTED_SCORE, RiskLevel.HIGH)
    assert signal.recommended_action is RecommendedAction.HOLD_PAYMENT
    assert signal.action.startswith("Hold the transfer")
    assert signal.signal_id == risk_id(CUSTOMER, TAKEOVER_EVENT, ruleset.version)
    device, amount = signal.reasons
    assert device.evidence["profile.hours_since_new_device"] == 0
    assert device.evidence["event.payee_new"] is True
    zscore = amount.evidence["event.amount_zscore"]
    assert isinstance(zscore, float) and zscore >= 4.0
    assert amount.message.startswith("4500 is ") and "spreads above the customer's usual 80" in amount.message
    # risk rules no longer send customer signals of kind risk
    assert not [o for o in outputs if isinstance(o.value, CustomerSignal) and o.value.kind == "risk"]


def test_a_redelivered_trigger_re_emits_the_same_signal_and_never_a_new_one(
    redis_url: str, ruleset: Ruleset
) -> None:
    story = raw(risk_story())
    [first] = risks(process(redis_url, ruleset, [story]))
    # the takeover read again (a crash before the commit): its facts are recalled, its claims held
    # by its own signal: the same signal re-emitted, under the same id, with the same reasons
    takeover = [r for r in story if TAKEOVER_EVENT.encode() + b'"' in r.value]
    [again] = risks(process(redis_url, ruleset, [takeover]))
    assert again == first


def test_each_risk_rule_keeps_its_own_cooldown(redis_url: str, ruleset: Ruleset) -> None:
    story = risk_story()
    login, takeover = story[-2], story[-1]
    [first] = risks(process(redis_url, ruleset, [raw(story)]))
    assert [r.rule_id for r in first.reasons] == EXPECTED_RULES
    # 20 minutes later another new payee gets 4,000: both rules hold again, both inside their 1-day
    # cooldown: no signal
    second = later(takeover, "takeover2", 20, payee_id="mule-8", amount="4000.00")
    assert risks(process(redis_url, ruleset, [raw([second], 100)])) == []
    # failed logins: another rule, out of its own cooldown, makes its own signal meanwhile
    fails = [later(login, f"fail{n}", 25 + n, device_id="laptop-z", auth_outcome="failed") for n in range(5)]
    [burst] = risks(process(redis_url, ruleset, [raw(fails, 101)]))
    assert ([r.rule_id for r in burst.reasons], burst.trigger_event_id) == (
        ["risk.failed_login_burst"],
        f"{CUSTOMER}-fail4",
    )
    assert (burst.score, burst.level, burst.recommended_action) == (
        45,
        RiskLevel.MEDIUM,
        RecommendedAction.STEP_UP_AUTH,
    )
    # 25 hours on, again a new device and a new payee: out of its cooldown, the device rule is a
    # reason again (the amount is no longer far from a usual that has learnt the two transfers)
    again = [
        later(login, "login-y", 25 * 60, device_id="phone-y"),
        later(takeover, "takeover3", 25 * 60, payee_id="mule-9", device_id="phone-y", amount="4200.00"),
    ]
    [signal] = risks(process(redis_url, ruleset, [raw(again, 110)]))
    assert [r.rule_id for r in signal.reasons] == ["risk.new_device_large_transfer"]
    assert (signal.score, signal.level) == (75, RiskLevel.HIGH)


def test_no_offer_is_pitched_while_the_risk_case_is_open(redis_url: str, ruleset: Ruleset) -> None:
    """VICTIM is paid twice, then logs in: the gold card, unless the takeover opened a risk case
    (profile.risk_open, 72 hours), which the contact policy honours for every offer."""
    story = risk_story()
    login, takeover = story[-2], story[-1]
    salaries = [
        later(takeover, f"sal{n}", minutes, kind="salary_credit", amount="3400.00", payee_id=None)
        for n, minutes in enumerate((-20 * 24 * 60, 30))  # the second after the takeover
    ]
    quiet = [m for m in story if m[1]["event_id"] not in (TAKEOVER_EVENT, login[1]["event_id"])]
    pitched = later(login, "login-later", 120, device_id="phone-1")

    def offers(messages: list[Message]) -> tuple[list[str], float]:
        metrics = Metrics()
        redis.Redis.from_url(redis_url).flushdb()
        ordered = sorted([*messages, *salaries, pitched], key=lambda m: str(m[1]["occurred_at"]))
        outputs = process(redis_url, ruleset, [raw(ordered)], metrics)
        made = [o.value.offer_id for o in outputs if isinstance(o.value, NextBestOffer)]
        blocked = metrics.registry.get_sample_value(
            "signalbank_offers_suppressed_total", {"reason": "risk_open"}
        )
        return made, blocked or 0.0

    assert offers(quiet)[0] == ["offer.credit_card_gold"]  # without the takeover: pitched
    made, blocked = offers(story)
    assert made == [] and blocked >= 1


def test_the_shipped_story_raises_no_risk_signal_and_signals_keep_their_topic(
    redis_url: str, ruleset: Ruleset
) -> None:
    outputs = process(redis_url, ruleset, [records()])
    assert risks(outputs) == []
    assert [o for o in outputs if o.topic == SIGNALS]


def test_scores_combine_as_independent_evidence_and_give_the_level() -> None:
    assert combined_score([75, 50]) == 88
    assert combined_score([85]) == 85
    assert combined_score([30, 30, 30]) == 66
    assert [risk_level(s) for s in (0, 39, 40, 69, 70, 100)] == [
        RiskLevel.LOW,
        RiskLevel.LOW,
        RiskLevel.MEDIUM,
        RiskLevel.MEDIUM,
        RiskLevel.HIGH,
        RiskLevel.HIGH,
    ]
