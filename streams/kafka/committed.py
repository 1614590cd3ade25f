"""The consumer group's committed offsets, read from the broker, for the dedupe ring.

Kafka redelivers only what the group has not committed, so the dedupe ring of each profile
(sinks/redis/profile_state.py) tracks every event until its offset is committed, and after that
keeps it only among the customer's last ``dedupe_capacity`` ids. The offsets come
from the broker, which decides where a restarted worker resumes, not from Faust's bookkeeping (it
records an offset even when the commit failed). A stale value is only ever too low: the ring then
tracks some events a little longer, and none is let go early.

Every wait on the broker is bounded by ``ADMIN_TIMEOUT_MS`` (kafka-python waits 30 s for a bootstrap
or a request): a worker stopping, or starting while the broker is down, is not held up by a reading.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from kafka import KafkaAdminClient
from kafka.structs import OffsetAndMetadata, TopicPartition

from sinks.redis.keys import kafka_position
from streams.kafka.admin import connect_admin

log = logging.getLogger(__name__)

#: Longest wait for the broker: the first metadata (the bootstrap) and then each request.
ADMIN_TIMEOUT_MS = 3_000


def packed_offsets(offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> str:
    """``code:partition:offset,...`` of the input topics, as the profile script reads them."""
    positions = (
        kafka_position(tp.topic, tp.partition, meta.offset)
        for tp, meta in offsets.items()
        if meta.offset >= 0
    )
    return ",".join(sorted(position for position in positions if position))


def admin_options(bootstrap: str, group: str) -> dict[str, Any]:
    """Options of the admin client reading ``group``'s offsets, every wait bounded by the timeout."""
    return {
        "bootstrap_servers": bootstrap,
        "client_id": f"{group}-committed",
        "bootstrap_timeout_ms": ADMIN_TIMEOUT_MS,  # in the constructor, which bootstraps eagerly
        "request_timeout_ms": ADMIN_TIMEOUT_MS,  # each request after it (the coordinator, the offsets)
    }


class CommittedOffsets:
    """Reads the group's committed offsets every ``interval_s`` in a daemon thread; ``packed()`` is
    the latest reading ("" until the first one: every event stays tracked)."""

    def __init__(self, bootstrap: str, group: str, interval_s: float) -> None:
        self._bootstrap, self._group, self._interval_s = bootstrap, group, interval_s
        self._packed = ""
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def packed(self) -> str:
        return self._packed

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="committed-offsets", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def read_once(self, admin: KafkaAdminClient) -> None:
        self._packed = packed_offsets(admin.list_group_offsets(self._group).get(self._group, {}))

    def _run(self) -> None:
        admin: KafkaAdminClient | None = None
        failing = False
        while not self._stopping.is_set():
            try:
                if admin is None:
                    admin = connect_admin(admin_options(self._bootstrap, self._group))
                self.read_once(admin)
                if failing:
                    log.info("committed offsets of group %s readable again", self._group)
                failing = False
            except Exception as exc:  # whatever the broker does: keep the last reading, try again
                if not failing:
                    log.warning(
                        "cannot read committed offsets of group %s (%s); the dedupe ring keeps "
                        "its entries until they can be read",
                        self._group,
                        exc,
                    )
                failing = True
                if admin is not None:
                    admin.close()
                    admin = None
            self._stopping.wait(self._interval_s)
        if admin is not None:
            admin.close()
