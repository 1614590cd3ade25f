"""Keep ``signalbank dev`` going when someone kills its worker or its Redis.

A killed worker is started again in the same consumer group, so it resumes from the offsets its
predecessor committed and re-reads only what was not committed (profile updates are idempotent,
outputs keep their ids). A killed embedded Redis is started again on the same port from its
append-only file. The embedded broker keeps its topics in memory: if it dies the run cannot go on,
and the supervisor says so instead of waiting forever.

Completion is judged by the offsets the consumer group committed, not by the workers' counters: a
killed worker's counters die with it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from schemas.catalog import INPUT_TOPICS


class Supervised(Protocol):
    def alive(self) -> bool: ...


class BrokerLost(RuntimeError):
    """The embedded broker stopped; its topics and offsets were in memory and are gone."""


def committed_events(bootstrap: str, group: str) -> int:
    """Events of the input topics the consumer group has committed: the sum of its committed
    offsets (offsets count records from 0 on these plain, non-compacted topics).

    Not "end offset minus committed": the embedded Tansu reports the end of a partition per record
    batch, not per record, so its lag would read 0 too early.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return sum(
            consumer.committed(TopicPartition(topic, p)) or 0
            for topic in INPUT_TOPICS
            for p in consumer.partitions_for_topic(topic) or ()
        )
    finally:
        consumer.close()


class Restartable(Supervised, Protocol):
    def start(self) -> object: ...


W = TypeVar("W", bound=Supervised)


class DevSupervisor(Generic[W]):
    """Polled by the dev loop: restarts what died and counts the restarts."""

    def __init__(
        self,
        emit: Callable[[str], None],
        start_worker: Callable[[], W],
        redis: Restartable | None,
        broker: Supervised | None,
    ) -> None:
        self._emit = emit
        self._start_worker = start_worker
        self._redis = redis
        self._broker = broker
        self.worker = start_worker()
        self.worker_restarts = 0
        self.redis_restarts = 0

    def poll(self) -> None:
        """Restart a dead Redis, then a dead worker; raise BrokerLost if the broker is gone."""
        if self._broker is not None and not self._broker.alive():
            raise BrokerLost("the embedded broker stopped: its topics lived in memory, so the run ends here")
        if self._redis is not None and not self._redis.alive():
            self._emit("embedded Redis stopped: starting it again on its port, from its append-only file")
            self._redis.start()
            self.redis_restarts += 1
        if not self.worker.alive():
            self._emit("worker stopped: starting a new one; it resumes from the committed offsets")
            self.worker = self._start_worker()
            self.worker_restarts += 1

    def wait_until_committed(self, bootstrap: str, group: str, events: int, timeout: float) -> int:
        """Poll (restarting what dies) until the group has committed ``events``; what it committed."""
        deadline = time.monotonic() + timeout
        committed = 0
        while time.monotonic() < deadline:
            self.poll()
            with contextlib.suppress(KafkaError, OSError):
                committed = committed_events(bootstrap, group)
                if committed >= events:
                    break
            time.sleep(0.5)
        return committed
