"""kafka-python helpers for tests: produce messages and collect output topics."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from schemas.catalog import OUTPUT_TOPICS


def produce(bootstrap: str, messages: Iterable[tuple[str, bytes | None, bytes]]) -> int:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks=1)
    count = 0
    for topic, key, value in messages:
        producer.send(topic, key=key, value=value)
        count += 1
    producer.flush()
    producer.close()
    return count


def collect(
    bootstrap: str,
    done: Callable[[dict[str, list[dict[str, Any]]]], bool],
    timeout: float = 90.0,
    settle: float = 2.0,
) -> dict[str, list[dict[str, Any]]]:
    """Read all output topics from the start until ``done`` holds, then a little longer for extras."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    partitions = [
        TopicPartition(t, p) for t in OUTPUT_TOPICS for p in (consumer.partitions_for_topic(t) or ())
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    seen: dict[str, list[dict[str, Any]]] = {t: [] for t in OUTPUT_TOPICS}
    deadline = time.monotonic() + timeout
    settled_at: float | None = None
    try:
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=250).values():
                for record in records:
                    seen[record.topic].append(json.loads(record.value))
            if done(seen):
                settled_at = settled_at or time.monotonic()
                if time.monotonic() - settled_at >= settle:
                    break
    finally:
        consumer.close()
    return seen
