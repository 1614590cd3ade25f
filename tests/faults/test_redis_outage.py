"""Redis stopped for 20 s mid-stream and started again on the same port: the worker waits, retries,
reports the outage (``signalbank_redis_up`` 0, /readyz 503), commits nothing it has not applied,
and ends with exactly the profiles of an uninterrupted run."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
import redis

from rules.load.ruleset import Ruleset
from schemas.catalog import INPUT_TOPICS
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from streams.kafka.admin import create_topics
from streams.sim.generator import generate
from tests.faults.test_crash_recovery import (
    SCENARIO,
    committed_offsets,
    fresh_db,
    reference_profiles,
    snapshot,
)
from tests.support.kafka_io import produce

pytestmark = pytest.mark.faults

OUTAGE_S = 20.0


def readiness(worker: WorkerProcess) -> tuple[int, dict[str, object]]:
    """Status and body of /readyz; it must answer within 5 s whatever state Redis is in."""
    url = worker.metrics_url.replace("/metrics", "/readyz")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(condition: Callable[[], bool], timeout: float, what: str, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.alive(), f"worker died while waiting for {what}:\n{worker.log_tail()}"
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s:\n{worker.log_tail()}"
        time.sleep(0.2)


def test_redis_outage_mid_stream_loses_nothing_and_is_reported(
    redis_server: EmbeddedRedis, ruleset: Ruleset
) -> None:
    expected = reference_profiles(fresh_db(redis_server, 4), ruleset)
    with EmbeddedKafka() as broker, EmbeddedRedis(persistent=True) as store:
        create_topics(broker.bootstrap, partitions=4)
        sent = produce(broker.bootstrap, ((e.topic, e.key, e.value) for e in generate(SCENARIO)))
        app_id = f"redis-outage-{os.getpid()}"
        worker = WorkerProcess(broker.url, store.url, partitions=4, rules_dir=None, app_id=app_id)
        worker.start()
        try:
            worker.wait_ready()

            wait_for(lambda: worker.events_read() >= sent * 0.3, 120, "30% of the events", worker)
            assert readiness(worker)[0] == 200
            store.stop(keep_data=True)
            outage_started = time.monotonic()

            # The outage shows: the gauge drops to 0 and /readyz says 503 (quickly, not hanging).
            wait_for(
                lambda: total(scrape(worker.metrics_url), "signalbank_redis_up") == 0,
                OUTAGE_S - 5,
                "signalbank_redis_up 0",
                worker,
            )
            status, body = readiness(worker)
            assert status == 503 and body["status"] == "unavailable", body
            assert worker.events_read() < sent, "the worker finished before the outage: nothing was tested"

            # Nothing is applied while Redis is down, so nothing more may be committed.
            applied = worker.events_read()
            committed_early = committed_offsets(broker.bootstrap, app_id, INPUT_TOPICS)
            while time.monotonic() - outage_started < OUTAGE_S:
                assert worker.alive(), worker.log_tail()
                time.sleep(0.5)
            committed_late = committed_offsets(broker.bootstrap, app_id, INPUT_TOPICS)
            assert worker.events_read() == applied, "events counted as applied while Redis was down"
            assert sum(committed_late.values()) <= applied, (committed_late, applied)
            assert committed_late == committed_early, "offsets committed during the outage"
            assert readiness(worker)[0] == 503

            store.start()  # same port, same append-only file
            wait_for(lambda: readiness(worker)[0] == 200, 30, "/readyz 200 after the outage", worker)
            wait_for(
                lambda: total(scrape(worker.metrics_url), "signalbank_redis_up") == 1,
                60,
                "signalbank_redis_up back to 1",
                worker,
            )
            client = redis.Redis.from_url(store.url)
            try:
                wait_for(lambda: snapshot(client) == expected, 180, "profiles equal to the clean run", worker)
            finally:
                client.close()
            # events are counted once their batch went through (after claims), just after the profiles
            wait_for(lambda: worker.events_read() >= sent, 60, "every event counted", worker)
            assert worker.alive()
            log = worker.log_path.read_text(errors="replace")
            assert "redis unavailable" in log, "the retries with backoff are logged"
        finally:
            worker.stop()
