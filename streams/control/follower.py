"""Every worker follows the rules control topic and switches to each valid publication.

Why a group-less kafka-python consumer in a daemon thread, not a Faust agent or an aiokafka task:

* Every worker must see every publication. A Faust agent joins the consumer group and would hand
  the single control partition to one worker only; here the partition is assigned manually, with
  no group and no committed offsets, and each worker reads it from the beginning.
* The startup catch-up must finish before the worker consumes its first event. Run synchronously
  in Faust's ``on_worker_init`` (before the app service, its consumer and its group join start), a
  blocking consumer gives that ordering for free and cannot starve heartbeats.
* Decoding and compiling a ruleset is CPU work and kafka-python blocks; in a thread of its own
  neither stalls Faust's event loop, and a broken control topic cannot crash the worker.

The swap itself is ``Runtime.use_ruleset``: one attribute assignment the pipeline reads once per
batch. An invalid publication is logged with its problems, counted, and never applied.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from schemas.catalog import RULES_CONTROL
from streams.control.publication import RejectedPublication, decode, validate
from streams.runtime import Runtime

log = logging.getLogger(__name__)

#: Longest wait at startup for the control topic's latest record before falling back.
CATCH_UP_TIMEOUT_S = 15.0
_POLL_MS = 500
_TOPIC_RECHECK_S = 2.0


class RulesFollower:
    """Reads the control topic: ``catch_up`` once (blocking), then ``start`` following in a thread."""

    def __init__(self, bootstrap: str, runtime: Runtime, topic: str = RULES_CONTROL) -> None:
        self._brokers = bootstrap
        self._runtime = runtime
        self._partition = TopicPartition(topic, 0)
        self._consumer: Any = None
        self._assigned = False
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def catch_up(self, timeout: float = CATCH_UP_TIMEOUT_S) -> bool:
        """Apply the latest valid publication on the topic; True if one is now active.

        Tolerates a missing or empty topic and an unreachable broker (returns False within
        ``timeout``): the caller then falls back to the rules folder, and following continues.
        """
        deadline = time.monotonic() + timeout
        try:
            if not self._connect(deadline) or not self._assign():
                return False
            end = self._consumer.end_offsets([self._partition], timeout_ms=self._ms_left(deadline))
            end_offset = int(end[self._partition])
            records: list[Any] = []
            while self._consumer.position(self._partition) < end_offset and time.monotonic() < deadline:
                for batch in self._consumer.poll(timeout_ms=min(_POLL_MS, self._ms_left(deadline))).values():
                    records.extend(batch)
            if self._consumer.position(self._partition) < end_offset:
                log.warning("rules catch-up stopped after %.0fs before the end of %s", timeout, self.topic)
        except KafkaError as exc:
            log.warning("rules catch-up failed (%s); following continues in the background", exc)
            return False
        return self._apply_latest(records)

    @property
    def topic(self) -> str:
        return str(self._partition.topic)

    def start(self) -> None:
        """Follow new publications in a daemon thread (continuing where ``catch_up`` stopped)."""
        self._thread = threading.Thread(target=self._run, name="rules-follower", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _run(self) -> None:
        failures = 0
        while not self._stop_event.is_set():
            try:
                if not self._connect(time.monotonic() + 10) or not self._assign():
                    self._stop_event.wait(_TOPIC_RECHECK_S)
                    continue
                for batch in self._consumer.poll(timeout_ms=_POLL_MS).values():
                    for record in batch:
                        self._apply(record)
                failures = 0
            except Exception:  # the follower must outlive any broker or decoding trouble
                failures += 1
                log.exception("rules follower error on %s; retrying", self.topic)
                self._stop_event.wait(min(30.0, 0.5 * 2**failures))

    def _connect(self, deadline: float) -> bool:
        while self._consumer is None:
            try:
                self._consumer = KafkaConsumer(
                    bootstrap_servers=self._brokers,
                    group_id=None,
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    allow_auto_create_topics=False,
                    client_id="signalbank-rules-follower",
                    bootstrap_timeout_ms=self._ms_left(deadline),
                )
            except KafkaError as exc:
                if time.monotonic() >= deadline:
                    log.warning("rules follower cannot reach the broker: %s", exc)
                    return False
                self._stop_event.wait(0.5)
        return True

    def _assign(self) -> bool:
        """Assign partition 0 from the beginning once the topic exists; False while it does not."""
        if self._assigned:
            return True
        if self._partition.partition not in self._consumer.partitions_for_topic(self.topic):
            log.debug("rules control topic %s does not exist (yet)", self.topic)
            return False
        self._consumer.assign([self._partition])
        self._consumer.seek_to_beginning(self._partition)
        self._assigned = True
        return True

    def _apply_latest(self, records: Sequence[Any]) -> bool:
        """Newest first, apply the first valid publication; older ones are superseded anyway."""
        return any(self._apply(record) for record in reversed(records))

    def _apply(self, record: Any) -> bool:
        """Validate one control record and switch to it; False (logged, counted) if it is rejected."""
        where = f"{record.topic}@{record.offset}"
        try:
            publication = decode(record.key, record.value)
            ruleset = validate(publication)
        except RejectedPublication as exc:
            self._runtime.metrics.ruleset_rejected.inc()
            active = self._runtime.ruleset.version if self._runtime.has_ruleset else "none yet"
            log.error(
                "rejected ruleset publication %s (%d problem(s)); keeping ruleset %s:\n  %s",
                where,
                len(exc.reasons),
                active,
                "\n  ".join(exc.reasons),
            )
            return False
        origin = f"{where}, published by {publication.published_by or '?'}@{publication.host or '?'}"
        self._runtime.use_ruleset(ruleset, origin)
        return True

    @staticmethod
    def _ms_left(deadline: float) -> int:
        return max(1, int((deadline - time.monotonic()) * 1000))
