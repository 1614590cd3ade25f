"""``dev``'s console: one line per output as the pipeline writes it (who, what, why; never the
payload or the ids), and the printer reading every output topic of a broker from the beginning."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from agents.decode import RawRecord
from rules.load.ruleset import Ruleset
from schemas.catalog import (
    CHURN_ALERTS,
    DEAD_LETTERS,
    OFFERS,
    OUTPUT_TOPICS,
    RISK_SIGNALS,
    SERVICE_ALERTS,
    SIGNALS,
    TIER_CHANGES,
    TRANSACTIONS,
)
from schemas.outputs import RecommendedAction, RiskLevel, RiskReason, RiskSignal, TierChange
from streams.dev.console import OutputPrinter, describe
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.kafka.admin import create_topics
from tests.support.kafka_io import produce
from tests.support.pipeline_story import process, records

PREFIXES = {
    CHURN_ALERTS: ("ALERT ",),
    OFFERS: ("OFFER ",),
    SIGNALS: ("TAG ", "CARE "),
    RISK_SIGNALS: ("RISK ",),
    SERVICE_ALERTS: ("SERVICE ",),
    TIER_CHANGES: ("TIER ",),
    DEAD_LETTERS: ("DEAD ",),
}
#: Fields a console line leaves out: ids, versions, evidence and the dead letter's raw message.
LEFT_OUT = (
    "alert_id",
    "offer_event_id",
    "signal_id",
    "change_id",
    "trigger_event_id",
    "ruleset_version",
    "payload_base64",
    "key_base64",
)


def tier_change() -> dict[str, Any]:
    """The story reaches no tier: one as the pipeline would write it."""
    change = TierChange(
        change_id="tier-7f3a9c",
        customer_id="LOYAL",
        old_tier=None,
        new_tier="gold",
        direction="up",
        rule_id="tier.gold",
        message="value score 81 >= 75",
        evidence={"profile.value_score": 81},
        trigger_event_id="LOYAL-sal3",
        occurred_at=datetime(2026, 4, 6, 1, tzinfo=UTC),
        ruleset_version="v-tier-test",
    )
    return {"topic": TIER_CHANGES, "value": json.loads(change.model_dump_json())}


def risk_signal() -> dict[str, Any]:
    """The story has no risky behaviour: one as the pipeline would write it."""
    signal = RiskSignal(
        signal_id="risk-1c2d",
        customer_id="LOYAL",
        rule_id="risk.new_device_large_transfer",
        score=85,
        level=RiskLevel.HIGH,
        reasons=[
            RiskReason(
                rule_id="risk.new_device_large_transfer",
                message="5000.0 out from a device first seen 3 minutes ago",
                score=85,
                evidence={"event.amount": 5000.0},
            )
        ],
        recommended_action=RecommendedAction.HOLD_PAYMENT,
        trigger_event_id="LOYAL-tx9",
        occurred_at=datetime(2026, 4, 6, 1, tzinfo=UTC),
        ruleset_version="v-risk-test",
    )
    return {"topic": RISK_SIGNALS, "value": json.loads(signal.model_dump_json())}


@pytest.fixture(scope="module")
def outputs(redis_server: EmbeddedRedis, ruleset: Ruleset) -> list[dict[str, Any]]:
    """Every output topic's values as the pipeline writes them: the story, one invalid message."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    bad = RawRecord(TRANSACTIONS, 0, 999, b"DRIFT", b'{"customer_id": "DRIFT", not json')
    produced = process(redis_server.url, ruleset, [[*records(), bad]])
    found = [{"topic": o.topic, "value": json.loads(o.encoded())} for o in produced]
    return [*found, tier_change(), risk_signal()]


def test_every_output_topic_is_described(outputs: list[dict[str, Any]]) -> None:
    assert {o["topic"] for o in outputs} == set(OUTPUT_TOPICS)


def test_each_output_is_one_line_naming_the_customer_and_nothing_of_the_payload(
    outputs: list[dict[str, Any]],
) -> None:
    for output in outputs:
        topic, value = output["topic"], output["value"]
        line = describe(topic, value)
        assert "\n" not in line and line.startswith(PREFIXES[topic]), line
        if topic == DEAD_LETTERS:
            assert f"{value['source_topic']}@{value['source_offset']} {value['reason']}" in line
        else:
            assert value["customer_id"] in line
        for field in LEFT_OUT:
            if value.get(field):
                assert str(value[field]) not in line, (field, line)
        assert "profile." not in line and "event." not in line, line  # evidence names the fields read


def test_a_record_of_another_topic_is_shown_as_it_is() -> None:
    assert describe("other.topic", {"a": 1}) == "other.topic: {'a': 1}"


def test_the_printer_reads_every_output_topic_from_the_beginning(outputs: list[dict[str, Any]]) -> None:
    chosen = [
        next(o for o in outputs if o["topic"] == topic) for topic in (CHURN_ALERTS, OFFERS, DEAD_LETTERS)
    ]
    with EmbeddedKafka() as broker:
        create_topics(broker.bootstrap, partitions=2, names=OUTPUT_TOPICS)
        produce(broker.bootstrap, [(o["topic"], b"k", json.dumps(o["value"]).encode()) for o in chosen])
        lines: list[str] = []
        seen: list[str] = []
        printer = OutputPrinter(broker.bootstrap, lines.append, lambda topic, _value: seen.append(topic))
        printer.start()
        try:
            deadline = time.monotonic() + 15
            while len(lines) < len(chosen):
                assert time.monotonic() < deadline, lines
                time.sleep(0.05)
        finally:
            printer.stop()
    assert not printer.is_alive()
    assert sorted(lines) == sorted(describe(o["topic"], o["value"]) for o in chosen)
    assert sorted(seen) == sorted(o["topic"] for o in chosen)
    assert printer.counts == {CHURN_ALERTS: 1, OFFERS: 1, DEAD_LETTERS: 1}
