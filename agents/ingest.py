"""The ingest agent's loop: consume all input topics in batches and deliver what the pipeline returns.

A batch is acknowledged (and so its offsets committed) only after its Redis effects succeeded and
its outputs were delivered: a crash anywhere re-processes the batch, which is safe because profile
updates are idempotent by event id and outputs have deterministic ids.

Nothing here knows the Faust app: streams/worker.py registers the agent and hands in the pipeline
and the delivery function.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError

from agents.decode import RawRecord
from agents.metrics import Metrics
from agents.outputs import Deliver, OutputRecord
from agents.pipeline import Pipeline

log = logging.getLogger(__name__)
_backoff = ExponentialWithJitterBackoff(base=0.1, cap=5.0)
T = TypeVar("T")


async def until_redis_answers(call: Callable[[], Awaitable[T]], what: str, metrics: Metrics) -> T:
    """Run ``call``, waiting out Redis outages with backoff instead of dropping the work."""
    failures = 0
    while True:
        try:
            result = await call()
            metrics.redis_up.set(1)
            return result
        except (RedisError, OSError) as exc:
            failures += 1
            metrics.redis_up.set(0)
            delay = _backoff.compute(failures)
            log.warning("redis unavailable (%s); retrying %s in %.1fs", exc, what, delay)
            await asyncio.sleep(delay)


async def process_until_done(
    pipeline: Pipeline, records: list[RawRecord], metrics: Metrics
) -> list[OutputRecord]:
    """Run the pipeline on a batch until Redis lets it through (a retry may find it half applied)."""
    attempts = 0

    def attempt() -> Awaitable[list[OutputRecord]]:
        nonlocal attempts
        attempts += 1
        return pipeline.process(records, retry=attempts > 1)

    return await until_redis_answers(attempt, f"batch of {len(records)}", metrics)


async def ingest(
    stream: Any,
    pipeline: Callable[[], Pipeline],
    deliver: Deliver,
    metrics: Metrics,
    batch_size: int,
    within_s: float,
    quiet_s: float,
) -> AsyncIterator[None]:
    """Take batches of raw events from the Faust stream, process them, deliver the outputs, move on.

    A batch goes as soon as the stream has nothing more for it (``take_ready`` of the app's stream,
    streams/app.py), so below full load an event waits for the batch in front of it, not for a
    window; the stream acknowledges a batch when the next one is asked for, after its delivery.
    """
    async for batch in stream.take_ready(batch_size, within=within_s, quiet=quiet_s):
        started = asyncio.get_running_loop().time()
        records = [
            RawRecord(e.message.topic, e.message.partition, e.message.offset, e.message.key, e.message.value)
            for e in batch
        ]
        outputs = await process_until_done(pipeline(), records, metrics)
        await deliver(outputs)
        elapsed = asyncio.get_running_loop().time() - started
        for _ in records:
            metrics.processing.observe(elapsed)
        yield None
