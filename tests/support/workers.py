"""A real ``signalbank worker`` process for integration tests, on an emptied Redis database."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import redis

from streams.dev.run import WorkerProcess
from streams.kafka.admin import create_topics


def empty(redis_url: str) -> None:
    """Flush the database a test's worker is about to use (the Redis server is the session's)."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


@contextlib.contextmanager
def running_worker(
    kafka_url: str,
    bootstrap: str,
    redis_url: str,
    *,
    name: str,
    partitions: int,
    rules_dir: Path | None = None,
    web_tokens: str = "",
    flush: bool = True,
) -> Iterator[WorkerProcess]:
    """Create the topics, start a worker (group ``name-<pid>``, the environment as set by the test),
    wait until it serves, and stop it after: it must stop when asked."""
    if flush:
        empty(redis_url)
    create_topics(bootstrap, partitions=partitions)
    process = WorkerProcess(
        kafka_url,
        redis_url,
        partitions=partitions,
        rules_dir=rules_dir,
        app_id=f"{name}-{os.getpid()}",
        web_tokens=web_tokens,
    )
    process.start()
    try:
        process.wait_ready()
        yield process
    except BaseException:
        process.stop()  # the test's own failure is the one to see
        raise
    assert process.stop() is not None, "the worker did not stop"
