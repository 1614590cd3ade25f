"""An account takeover through Kafka and a real worker: one risk signal on the risk topic, and a
second consumer group reading every event again re-emits it under its id, never a new one."""

from __future__ import annotations

import time
from typing import Any

from agents.outputs import risk_id
from rules.load.ruleset import Ruleset
from schemas.catalog import RISK_SIGNALS, SIGNALS
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from tests.support.kafka_io import collect, produce
from tests.support.risk_story import CUSTOMER, EXPECTED_RULES, EXPECTED_SCORE, TAKEOVER_EVENT, risk_story
from tests.support.story import encoded
from tests.support.workers import running_worker


def wait_until(worker: WorkerProcess, metric: str, count: float, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while total(scrape(worker.metrics_url), metric) < count:
        assert time.monotonic() < deadline, f"worker did not reach {metric} >= {count} in {timeout}s"
        time.sleep(0.02)


def risk_records(seen: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [r for r in seen[RISK_SIGNALS] if r["customer_id"] == CUSTOMER]


def test_a_takeover_gives_one_risk_signal_and_a_redelivery_does_not_duplicate_it(
    own_broker: EmbeddedKafka, redis_server: EmbeddedRedis, ruleset: Ruleset
) -> None:
    messages = [(topic, body["customer_id"].encode(), encoded((topic, body))) for topic, body in risk_story()]
    with running_worker(
        own_broker.url, own_broker.bootstrap, redis_server.url, name="risk", partitions=2
    ) as worker:
        # live traffic: one event after the other, as the customer made them (the behaviour judges
        # events in the order they arrive; two topics would not keep it for a backlog)
        for sent, message in enumerate(messages, start=1):
            produce(own_broker.bootstrap, [message])
            wait_until(worker, "signalbank_events_total", sent)
        first = collect(own_broker.bootstrap, lambda seen: bool(risk_records(seen)), timeout=30.0)
    [signal] = risk_records(first)
    assert signal["type"] == "risk_signal" and signal["trigger_event_id"] == TAKEOVER_EVENT
    assert [r["rule_id"] for r in signal["reasons"]] == EXPECTED_RULES
    assert (signal["score"], signal["level"], signal["recommended_action"]) == (
        EXPECTED_SCORE,
        "high",
        "hold_payment",
    )
    assert signal["signal_id"] == risk_id(CUSTOMER, TAKEOVER_EVENT, ruleset.version)
    assert not [s for s in first[SIGNALS] if s.get("kind") == "risk"]

    # Another consumer group on the same Redis reads every event again, as after offsets were lost:
    # each one a duplicate; the takeover's facts are recalled and its claims held by its signal
    with running_worker(
        own_broker.url, own_broker.bootstrap, redis_server.url, name="risk-again", partitions=2, flush=False
    ) as again:
        wait_until(again, "signalbank_events_total", len(messages), timeout=60.0)
        seen = collect(own_broker.bootstrap, lambda seen: len(risk_records(seen)) >= 2, timeout=30.0)
    records = risk_records(seen)
    assert len(records) == 2 and all(r == signal for r in records)  # re-emitted whole, same id
