"""``signalbank_consumer_lag`` on the embedded broker: a worker that cannot process (Redis stopped)
shows every event produced meanwhile as lag on its partitions, and the lag falls to 0 once the
backlog is processed and committed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from schemas.catalog import INPUT_TOPICS
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape
from streams.kafka.admin import create_topics
from streams.sim.generator import generate
from streams.sim.scenario import Scenario
from tests.support.kafka_io import produce

PARTITIONS = 2
BACKLOG = 400
SCENARIO = Scenario(customers=40, days=30, seed=5, invalid_ratio=0.0).pinned()


def lags(worker: WorkerProcess) -> dict[tuple[str, str], float]:
    """(topic, partition) -> lag, as the worker's /metrics page shows it."""
    samples = scrape(worker.metrics_url).get("signalbank_consumer_lag", {})
    return {(dict(labels)["topic"], dict(labels)["partition"]): value for labels, value in samples.items()}


def wait_for(condition: Callable[[], bool], timeout: float, what: str, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.alive(), f"worker died while waiting for {what}:\n{worker.log_tail()}"
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s: {lags(worker)}"
        time.sleep(0.3)


def test_lag_counts_the_backlog_and_falls_to_zero_once_consumed() -> None:
    events = [(e.topic, e.key, e.value) for e in generate(SCENARIO)][:BACKLOG]
    assert len(events) == BACKLOG
    with EmbeddedKafka() as broker, EmbeddedRedis(persistent=True) as store:
        create_topics(broker.bootstrap, partitions=PARTITIONS)
        app_id = f"consumer-lag-{os.getpid()}"
        worker = WorkerProcess(broker.url, store.url, partitions=PARTITIONS, rules_dir=None, app_id=app_id)
        worker.start()
        try:
            worker.wait_ready()
            every_partition = {(t, str(p)) for t in INPUT_TOPICS for p in range(PARTITIONS)}
            wait_for(lambda: set(lags(worker)) == every_partition, 60, "a lag for every partition", worker)
            assert sum(lags(worker).values()) == 0, "nothing produced yet, nothing behind"

            store.stop(keep_data=True)  # the worker takes the backlog but cannot apply or commit it
            sent = produce(broker.bootstrap, events)
            wait_for(lambda: sum(lags(worker).values()) == sent, 60, f"a lag of {sent}", worker)
            behind = lags(worker)
            assert sum(1 for value in behind.values() if value > 0) >= 2, behind
            time.sleep(3)  # commits run every second: still nothing may have been committed
            assert lags(worker) == behind

            store.start()
            wait_for(lambda: sum(lags(worker).values()) == 0, 120, "the lag back to 0", worker)
            assert set(lags(worker)) == every_partition
        finally:
            worker.stop()
