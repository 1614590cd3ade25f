"""The batch pipeline against a real Redis: the scripted story gives exactly the expected outputs."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal

import redis

from agents.decode import UNKNOWN_CURRENCY, RawRecord
from agents.metrics import Metrics
from agents.outputs import OutputRecord, stable_id
from agents.pipeline import Pipeline, PipelineConfig
from rules.load.ruleset import Ruleset
from schemas.catalog import CHURN_ALERTS, DEAD_LETTERS, OFFERS
from schemas.money import RateTable
from schemas.outputs import ChurnAlert, DeadLetter, NextBestOffer
from schemas.profile.view import build_profile
from sinks.redis.keys import profile_key
from streams.dev.embedded import EmbeddedRedis
from tests.faults.test_crash_recovery import fresh_db, run_reference
from tests.support.pipeline_story import process, records
from tests.support.profile_events import ring_of
from tests.support.redis_state import make_state
from tests.support.story import EXPECTED_ALERTS, EXPECTED_OFFERS


def summarize(outputs: list[OutputRecord]) -> tuple[list[tuple[str, str, list[str]]], list[tuple[str, str]]]:
    alerts = [o.value for o in outputs if o.topic == CHURN_ALERTS]
    offers = [o.value for o in outputs if o.topic == OFFERS]
    assert all(isinstance(a, ChurnAlert) for a in alerts)
    assert all(isinstance(o, NextBestOffer) for o in offers)
    return (
        [(a.trigger_event_id, a.level.value, [r.rule_id for r in a.reasons]) for a in alerts],  # type: ignore[attr-defined]
        [(o.trigger_event_id, o.offer_id) for o in offers],  # type: ignore[attr-defined]
    )


def test_story_gives_exactly_the_expected_alerts_and_offers(redis_url: str, ruleset: Ruleset) -> None:
    all_records = records()
    outputs = process(redis_url, ruleset, [all_records[i : i + 7] for i in range(0, len(all_records), 7)])
    alerts, offers = summarize(outputs)
    assert sorted(alerts) == sorted(EXPECTED_ALERTS)
    assert sorted(offers) == sorted(EXPECTED_OFFERS)
    for output in outputs:
        if isinstance(output.value, ChurnAlert):
            alert = output.value
            assert alert.alert_id == stable_id(
                "alert", alert.customer_id, alert.trigger_event_id, ruleset.version
            )
            assert alert.ruleset_version == ruleset.version
            assert [r.weight for r in alert.reasons] == sorted(
                (r.weight for r in alert.reasons), reverse=True
            )
            assert alert.suggested_action


def test_critical_alert_carries_score_reasons_and_evidence(redis_url: str, ruleset: Ruleset) -> None:
    outputs = process(redis_url, ruleset, [records()])
    alerts = [o.value for o in outputs if isinstance(o.value, ChurnAlert)]
    critical = next(a for a in alerts if a.level.value == "critical")
    assert critical.trigger_event_id == "DRIFT-card"
    assert critical.score == round(1 - (1 - 0.6) * (1 - 0.45) * (1 - 0.25), 6)
    salary = next(r for r in critical.reasons if r.rule_id == "churn.salary_stopped")
    assert critical.reasons[0].rule_id == "churn.balance_drain_other_bank"  # largest weight first
    assert salary.evidence["profile.salary_count_90d"] == 2
    assert salary.evidence["profile.days_since_salary"] == 38
    assert salary.message == "No salary for 38 days after 2 salaries in 90 days"
    assert critical.suggested_action.startswith("Relationship manager calls within 24 hours")


def test_alert_is_resent_only_when_the_level_rises(redis_url: str, ruleset: Ruleset) -> None:
    outputs = process(redis_url, ruleset, [records()])
    drift = [o.value for o in outputs if isinstance(o.value, ChurnAlert) and o.value.customer_id == "DRIFT"]
    assert [a.level.value for a in drift] == ["watch", "high", "critical"]
    # DRIFT-nps evaluates to critical again (low NPS joined the reasons) inside the cooldown
    assert "DRIFT-nps" not in [a.trigger_event_id for a in drift]


def test_reprocessing_after_a_crash_repeats_outputs_only_with_identical_ids(
    redis_url: str, ruleset: Ruleset
) -> None:
    all_records = records()
    first = process(redis_url, ruleset, [all_records])
    again = process(redis_url, ruleset, [all_records])  # at-least-once: the same batch delivered twice

    def ids(outputs: list[OutputRecord]) -> set[str]:
        return {
            str(getattr(o.value, "alert_id", None) or getattr(o.value, "offer_event_id", "")) for o in outputs
        }

    assert ids(again) <= ids(first)
    assert ids(again)  # the re-delivered events do re-emit what they decided (at-least-once)


def test_no_offers_without_consent_or_with_open_complaint(redis_url: str, ruleset: Ruleset) -> None:
    metrics = Metrics()
    outputs = process(redis_url, ruleset, [records()], metrics)
    customers = {o.value.customer_id for o in outputs if isinstance(o.value, NextBestOffer)}
    assert customers == {"DRIFT"}
    suppressed = metrics.registry.get_sample_value(
        "signalbank_offers_suppressed_total", {"reason": "no_consent"}
    )
    assert suppressed and suppressed >= 2  # LOYAL was eligible for the card at each salary


def test_invalid_records_are_dead_lettered_in_the_same_batch(redis_url: str, ruleset: Ruleset) -> None:
    bad = RawRecord("bank.transactions.v1", 3, 99, b"C9", b"{not json")
    outputs = process(redis_url, ruleset, [[bad, *records()[:3]]])
    assert [o.topic for o in outputs].count(DEAD_LETTERS) == 1


def test_a_currency_without_a_rate_is_dead_lettered_and_changes_no_profile(
    redis_url: str, ruleset: Ruleset
) -> None:
    """No rates configured: only the reporting currency (EUR) is accepted; a dollar transaction is
    a dead letter saying so, and its customer's profile is never written."""
    body = {
        "event_id": "usd-1",
        "customer_id": "C9",
        "occurred_at": "2026-01-05T10:00:00+00:00",
        "account_id": "A9-2",
        "kind": "deposit",
        "amount": "500.00",
        "currency": "USD",
        "channel": "web",
        "balance_after": "500.00",
    }
    foreign = RawRecord("bank.transactions.v1", 3, 98, b"C9", json.dumps(body).encode())
    outputs = process(redis_url, ruleset, [[foreign, *records()[:3]]])
    [letter] = [o.value for o in outputs if o.topic == DEAD_LETTERS]
    assert isinstance(letter, DeadLetter)
    assert [(e.loc, e.kind) for e in letter.errors] == [("currency", UNKNOWN_CURRENCY)]
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.exists(profile_key("C9")) == 0
    finally:
        client.close()


def test_a_configured_rate_converts_a_foreign_transaction_before_the_profile_sees_it(
    redis_url: str, ruleset: Ruleset
) -> None:
    """With a dollar rate in the settings' table, the pipeline decodes with it: the profile holds the
    balance in the reporting currency, and no dead letter is written."""
    body = {
        "event_id": "usd-2",
        "customer_id": "C8",
        "occurred_at": "2026-01-05T10:00:00+00:00",
        "account_id": "A8-2",
        "kind": "deposit",
        "amount": "500.00",
        "currency": "USD",
        "channel": "web",
        "balance_after": "1000.00",
    }
    config = PipelineConfig("SIGNALBANK", timedelta(days=1), rates=RateTable("EUR", {"USD": Decimal("0.90")}))

    async def go() -> tuple[list[OutputRecord], float]:
        state = make_state(redis_url)
        try:
            pipeline = Pipeline(state, lambda: ruleset, Metrics(), config)
            outputs = await pipeline.process(
                [RawRecord("bank.transactions.v1", 0, 1, b"C8", json.dumps(body).encode())]
            )
            stored = await state.profiles.read("C8")
            profile = build_profile("C8", stored.state, stored.sums, int(stored.state["last_ts"]))
            return outputs, float(profile["balance_last"])
        finally:
            await state.aclose()

    outputs, balance = asyncio.run(go())
    assert [o.topic for o in outputs if o.topic == DEAD_LETTERS] == []
    assert balance == 900.0


def test_profile_updates_in_chunks_give_what_one_call_per_batch_gives(
    redis_server: EmbeddedRedis, ruleset: Ruleset
) -> None:
    """Chunks of 7 updates (a customer's events land in several chunks of one batch, and the next
    chunk is applied while rules run on the previous one) end in the same profiles and outputs."""
    whole_profiles, whole_outputs = run_reference(fresh_db(redis_server, 7), ruleset, apply_chunk=500)
    chunked_profiles, chunked_outputs = run_reference(fresh_db(redis_server, 8), ruleset, apply_chunk=7)
    assert chunked_profiles == whole_profiles
    assert len(whole_outputs) > 10
    assert [(o.topic, o.encoded()) for o in chunked_outputs] == [
        (o.topic, o.encoded()) for o in whole_outputs
    ]


def test_records_read_from_kafka_stay_pending_in_the_ring_until_committed(
    redis_url: str, ruleset: Ruleset
) -> None:
    """With committed offsets given (a worker), the ring keeps each event's position until the group
    commits it; without (replays, tests), records' offsets are not Kafka's and are not kept."""
    story_records = [r for r in records() if r.key == b"DRIFT"]
    committed = [""]

    async def go(with_offsets: bool) -> None:
        config = PipelineConfig("SIGNALBANK", timedelta(days=1))
        provider = (lambda: committed[0]) if with_offsets else None
        pipeline = Pipeline(make_state(redis_url), lambda: ruleset, Metrics(), config, committed=provider)
        await pipeline.process(story_records[:-1])
        committed[0] = (
            f"0:0:{story_records[-2].offset},1:0:{story_records[-2].offset},2:0:{story_records[-2].offset}"
        )
        await pipeline.process(story_records[-1:])

    client = redis.Redis.from_url(redis_url)
    asyncio.run(go(with_offsets=True))
    kept, pending = ring_of(client, "DRIFT")
    last_two = {r.offset for r in story_records[-2:]}
    assert {offset for _, _, offset in pending} == last_two  # the one before the commit, and the new one
    assert len(kept) == len(story_records) - 2
    client.flushdb()
    asyncio.run(go(with_offsets=False))
    kept, pending = ring_of(client, "DRIFT")
    assert len(kept) == len(story_records) - 1 and [p[0] for p in pending] == [255]
    client.close()
