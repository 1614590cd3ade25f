"""A worker killed with SIGKILL mid-stream and restarted leaves exactly the profiles of a clean run."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import pytest
import redis

from agents.decode import RawRecord
from rules.ruleset import Ruleset
from streams.admin import create_topics
from streams.dev import WorkerProcess
from streams.embedded import EmbeddedKafka, EmbeddedRedis
from streams.scrape import scrape, total
from streams.simulator import Scenario, generate
from tests.conftest import make_pipeline
from tests.kafka_io import produce

SCENARIO = Scenario(customers=60, days=60, seed=11, invalid_ratio=0.0)


@pytest.fixture
def own_broker() -> Iterator[EmbeddedKafka]:
    """A broker of its own: this test leaves a consumer group and committed offsets behind."""
    with EmbeddedKafka() as broker:
        yield broker


def snapshot(client: redis.Redis) -> dict[str, object]:
    state: dict[str, object] = {}
    for key in client.scan_iter("sb:*"):
        name = key.decode()
        if name.endswith((":state", ":days")):
            state[name] = client.hgetall(key)
    return state


def reference_profiles(url: str, ruleset: Ruleset) -> dict[str, object]:
    records = [RawRecord(e.topic, 0, i, e.key, e.value) for i, e in enumerate(generate(SCENARIO))]

    async def go() -> None:
        pipeline = make_pipeline(url, ruleset)
        for start in range(0, len(records), 500):
            await pipeline.process(records[start : start + 500])

    asyncio.run(go())
    client = redis.Redis.from_url(url)
    try:
        return snapshot(client)
    finally:
        client.close()


def test_sigkill_mid_stream_then_restart_gives_identical_profiles(
    own_broker: EmbeddedKafka, redis_server: EmbeddedRedis, ruleset: Ruleset
) -> None:
    worker_url = redis_server.url.rsplit("/", 1)[0] + "/2"
    reference_url = redis_server.url.rsplit("/", 1)[0] + "/3"
    for url in (worker_url, reference_url):
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
    expected = reference_profiles(reference_url, ruleset)

    create_topics(own_broker.bootstrap, partitions=4)
    sent = produce(own_broker.bootstrap, ((e.topic, e.key, e.value) for e in generate(SCENARIO)))
    app_id = f"crash-{os.getpid()}"

    first = WorkerProcess(own_broker.url, worker_url, partitions=4, rules_dir=None, app_id=app_id)
    first.start()
    first.wait_ready()
    deadline = time.monotonic() + 90
    while total(scrape(first.metrics_url), "signalbank_events_total") < sent * 0.3:
        assert time.monotonic() < deadline, "first worker made no progress"
        time.sleep(0.05)
    first.kill()
    read_before_kill = sent * 0.3

    second = WorkerProcess(own_broker.url, worker_url, partitions=4, rules_dir=None, app_id=app_id)
    second.start()
    try:
        second.wait_ready()
        client = redis.Redis.from_url(worker_url)
        deadline = time.monotonic() + 120
        actual = snapshot(client)
        while actual != expected and time.monotonic() < deadline:
            time.sleep(1.0)
            actual = snapshot(client)
        client.close()
        reread = total(scrape(second.metrics_url), "signalbank_events_total")
    finally:
        second.stop()
    assert reread < sent, "the restarted worker must resume from committed offsets, not from the start"
    assert reread + read_before_kill >= sent
    assert actual.keys() == expected.keys()
    assert actual == expected
