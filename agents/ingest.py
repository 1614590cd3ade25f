"""The ingest agent: consumes all input topics in batches and sends what the pipeline returns.

A batch is acknowledged (and so its offsets committed) only after its Redis effects succeeded and
its outputs were delivered: a crash anywhere re-processes the batch, which is safe because profile
updates are idempotent by event id and outputs have deterministic ids.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError

from agents.decode import RawRecord
from agents.pipeline import OutputRecord
from streams.app import app, runtime, settings
from streams.topics import input_topic, output_topics

log = logging.getLogger(__name__)
_outputs = output_topics(app, settings.partitions)
_backoff = ExponentialWithJitterBackoff(base=0.1, cap=5.0)
T = TypeVar("T")


async def send_outputs(outputs: Sequence[OutputRecord]) -> None:
    """Send every output and wait until the broker has them all."""
    pending = [await _outputs[o.topic].send(key=o.key, value=o.encoded()) for o in outputs]
    if pending:
        await asyncio.gather(*pending)


async def until_redis_answers(call: Callable[[], Awaitable[T]], what: str) -> T:
    """Run ``call``, waiting out Redis outages with backoff instead of dropping the work."""
    failures = 0
    while True:
        try:
            result = await call()
            runtime.metrics.redis_up.set(1)
            return result
        except (RedisError, OSError) as exc:
            failures += 1
            runtime.metrics.redis_up.set(0)
            delay = _backoff.compute(failures)
            log.warning("redis unavailable (%s); retrying %s in %.1fs", exc, what, delay)
            await asyncio.sleep(delay)


async def process_until_done(records: list[RawRecord]) -> list[OutputRecord]:
    """Run the pipeline on a batch until Redis lets it through (a retry may find it half applied)."""
    attempts = 0

    def attempt() -> Awaitable[list[OutputRecord]]:
        nonlocal attempts
        attempts += 1
        return runtime.pipeline.process(records, retry=attempts > 1)

    return await until_redis_answers(attempt, f"batch of {len(records)}")


@app.before_consuming
def read_committed_offsets() -> None:
    """Follow the group's committed offsets: profiles' dedupe rings track each event until it is committed."""
    runtime.committed.start()


@app.agent(input_topic(app, settings.partitions))
async def ingest(stream: Any) -> AsyncIterator[None]:
    """Take batches of raw events, process them, deliver the outputs, then move on."""
    async for batch in stream.take_events(settings.batch_size, within=settings.batch_within_s):
        started = asyncio.get_running_loop().time()
        records = [
            RawRecord(e.message.topic, e.message.partition, e.message.offset, e.message.key, e.message.value)
            for e in batch
        ]
        outputs = await process_until_done(records)
        await send_outputs(outputs)
        elapsed = asyncio.get_running_loop().time() - started
        for _ in records:
            runtime.metrics.processing.observe(elapsed)
        yield None
