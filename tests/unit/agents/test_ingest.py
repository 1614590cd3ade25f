"""The ingest loop's logic with small fakes: Redis outages are waited out with backoff, a batch is
retried as a retry, and every batch is delivered before the next is taken."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

import agents.ingest as ingest_module
from agents.decode import RawRecord
from agents.ingest import ingest, process_until_done, until_redis_answers
from agents.metrics import Metrics
from agents.outputs import OutputRecord
from agents.pipeline import Pipeline


class Backoff:
    """Records the failure counts it is asked about; waits ``delay`` seconds each time."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.asked: list[int] = []

    def compute(self, failures: int) -> float:
        self.asked.append(failures)
        return self.delay


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    fake = Backoff()
    monkeypatch.setattr(ingest_module, "_backoff", fake)
    return fake


def redis_up(metrics: Metrics) -> float | None:
    return metrics.registry.get_sample_value("signalbank_redis_up")


def test_a_failing_call_is_retried_with_growing_backoff_and_the_gauge_follows(backoff: Backoff) -> None:
    metrics = Metrics()
    seen: list[float | None] = []
    failures: list[Exception] = [
        RedisConnectionError("down"),
        ConnectionRefusedError("refused"),
        RedisError(),
    ]

    async def call() -> str:
        seen.append(redis_up(metrics))
        if failures:
            raise failures.pop(0)
        return "answer"

    assert asyncio.run(until_redis_answers(call, "a call", metrics)) == "answer"
    assert backoff.asked == [1, 2, 3]
    assert seen == [0.0, 0.0, 0.0, 0.0]  # down from the first failure on
    assert redis_up(metrics) == 1.0


def test_the_backoff_delay_is_waited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "_backoff", Backoff(delay=0.05))
    calls = 0

    async def call() -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RedisConnectionError("down")
        return calls

    async def timed() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        result = await until_redis_answers(call, "a call", Metrics())
        return result, loop.time() - started

    result, elapsed = asyncio.run(timed())
    assert result == 3 and elapsed >= 0.1


def test_other_errors_are_not_retried(backoff: Backoff) -> None:
    metrics = Metrics()

    async def ok() -> None:
        return None

    async def broken() -> None:
        raise ValueError("a bug, not an outage")

    asyncio.run(until_redis_answers(ok, "ok", metrics))
    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(until_redis_answers(broken, "broken", metrics))
    assert backoff.asked == [] and redis_up(metrics) == 1.0


@dataclass
class FakePipeline:
    """Fails its first ``failures`` calls with a Redis error; records how it was called."""

    failures: int = 0
    calls: list[tuple[list[RawRecord], bool]] = field(default_factory=list)

    async def process(self, records: Sequence[RawRecord], retry: bool = False) -> list[OutputRecord]:
        self.calls.append((list(records), retry))
        if len(self.calls) <= self.failures:
            raise RedisConnectionError("went away mid-batch")
        return [OutputRecord("out", r.key or b"", cast(Any, None)) for r in records]


RECORDS = [RawRecord("bank.transactions.v1", 0, n, f"C{n}".encode(), b"{}") for n in range(3)]


def test_a_batch_is_retried_as_a_retry_after_a_redis_error(backoff: Backoff) -> None:
    fake = FakePipeline(failures=2)
    outputs = asyncio.run(process_until_done(cast(Pipeline, fake), RECORDS, Metrics()))
    assert [retry for _, retry in fake.calls] == [False, True, True]
    assert all(records == RECORDS for records, _ in fake.calls)
    assert [o.key for o in outputs] == [b"C0", b"C1", b"C2"]


def test_a_batch_that_goes_through_at_once_is_no_retry(backoff: Backoff) -> None:
    fake = FakePipeline()
    asyncio.run(process_until_done(cast(Pipeline, fake), RECORDS, Metrics()))
    assert [retry for _, retry in fake.calls] == [False]


class FakeStream:
    """Hands out ``batches`` of Faust-like events, recording how it was asked."""

    def __init__(self, batches: list[list[RawRecord]]) -> None:
        self.batches = batches
        self.asked: list[tuple[int, float, float]] = []

    async def take_ready(
        self, size: int, within: float, quiet: float
    ) -> AsyncIterator[list[SimpleNamespace]]:
        self.asked.append((size, within, quiet))
        for batch in self.batches:
            yield [SimpleNamespace(message=r) for r in batch]


def test_each_batch_is_processed_and_delivered_before_the_next_is_taken(backoff: Backoff) -> None:
    stream = FakeStream([RECORDS[:2], RECORDS[2:]])
    pipelines: list[FakePipeline] = []
    log: list[str] = []
    metrics = Metrics()

    def pipeline() -> Pipeline:  # asked per batch: a swapped ruleset reaches the next batch
        pipelines.append(FakePipeline(failures=1 if not pipelines else 0))
        return cast(Pipeline, pipelines[-1])

    async def deliver(outputs: Sequence[OutputRecord]) -> None:
        log.append("delivered " + ",".join(o.key.decode() for o in outputs))

    async def run() -> None:
        async for _ in ingest(stream, pipeline, deliver, metrics, 500, 0.05, 0.002):
            log.append("acknowledged")

    asyncio.run(run())
    assert stream.asked == [(500, 0.05, 0.002)]
    assert log == ["delivered C0,C1", "acknowledged", "delivered C2", "acknowledged"]
    assert [records for p in pipelines for records, _ in p.calls] == [RECORDS[:2], RECORDS[:2], RECORDS[2:]]
    count = metrics.registry.get_sample_value("signalbank_event_processing_seconds_count")
    assert count == 3  # one observation per event
