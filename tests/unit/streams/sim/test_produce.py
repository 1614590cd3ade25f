"""Producing to Kafka (a fake producer): everything sent, paced, stoppable, refusals reported."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from schemas.catalog import INPUT_TOPICS
from streams.sim.event import SimEvent
from streams.sim.generator import generate
from streams.sim.produce import ProduceError, produce
from tests.unit.streams.sim.traffic import (
    SCENARIO,
)


class FakeFuture:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def add_errback(self, callback: Any) -> FakeFuture:
        if self.error is not None:
            callback(self.error)
        return self


class FakeProducer:
    instances: list[FakeProducer] = []
    fail_every: int = 0

    def __init__(self, **configs: Any) -> None:
        self.configs = configs
        self.sent: list[tuple[str, bytes, bytes, float]] = []
        self.flushed = self.closed = False
        FakeProducer.instances.append(self)

    def send(self, topic: str, value: bytes, key: bytes) -> FakeFuture:
        self.sent.append((topic, key, value, time.monotonic()))
        failed = self.fail_every and len(self.sent) % self.fail_every == 0
        return FakeFuture(RuntimeError("broker said no") if failed else None)

    def flush(self) -> None:
        self.flushed = True

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeProducer]]:
    FakeProducer.instances = []
    FakeProducer.fail_every = 0
    monkeypatch.setattr("streams.sim.produce.KafkaProducer", FakeProducer)
    yield FakeProducer


def test_produce_sends_everything_and_counts_per_topic(
    fake_kafka: type[FakeProducer], events: list[SimEvent]
) -> None:
    stream = list(generate(replace(SCENARIO, customers=10, invalid_ratio=0.05)))
    seen: list[SimEvent] = []
    counts = produce(stream, "broker:9092", rate=None, on_sent=seen.append)
    (producer,) = fake_kafka.instances
    assert producer.configs == {"bootstrap_servers": "broker:9092", "linger_ms": 5, "acks": 1}
    assert producer.flushed and producer.closed
    assert [(t, k, v) for t, k, v, _ in producer.sent] == [(e.topic, e.key, e.value) for e in stream]
    assert seen == stream
    assert counts == {t: sum(e.topic == t for e in stream) for t in INPUT_TOPICS}


def test_produce_paces_to_the_rate(fake_kafka: type[FakeProducer], events: list[SimEvent]) -> None:
    started = time.monotonic()
    produce(events[:300], "broker:9092", rate=1000.0)
    elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 3.0
    stamps = [s for *_, s in fake_kafka.instances[0].sent]
    assert stamps[150] - stamps[0] > 0.12  # paced throughout, not one burst at the end


def test_produce_stops_when_asked(fake_kafka: type[FakeProducer], events: list[SimEvent]) -> None:
    stop = threading.Event()
    sent: list[SimEvent] = []

    def on_sent(event: SimEvent) -> None:
        sent.append(event)
        if len(sent) == 25:
            stop.set()

    counts = produce(events, "broker:9092", rate=None, stop=stop, on_sent=on_sent)
    assert sum(counts.values()) == 25 == len(fake_kafka.instances[0].sent)
    assert fake_kafka.instances[0].closed


def test_produce_stops_while_waiting_for_the_rate(
    fake_kafka: type[FakeProducer], events: list[SimEvent]
) -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    counts = produce(events, "broker:9092", rate=50.0, stop=stop)
    assert time.monotonic() - started < 1.5
    assert 0 < sum(counts.values()) < 40


def test_produce_reports_refused_messages(fake_kafka: type[FakeProducer], events: list[SimEvent]) -> None:
    fake_kafka.fail_every = 10
    with pytest.raises(ProduceError) as caught:
        produce(events[:100], "broker:9092", rate=None)
    assert caught.value.failed == 10
    assert sum(caught.value.counts.values()) == 100
    assert fake_kafka.instances[0].closed


def test_produce_rejects_a_useless_rate(fake_kafka: type[FakeProducer]) -> None:
    with pytest.raises(ValueError):
        produce([], "broker:9092", rate=0)
