"""Sends simulated events to Kafka, paced to a rate, and says when the broker refused some.

``KafkaProducer`` is looked up in this module at call time, so tests can replace it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from kafka import KafkaProducer

from streams.sim.event import SimEvent


class ProduceError(RuntimeError):
    """Some messages were not acknowledged by Kafka; ``counts`` holds what was handed over."""

    def __init__(self, message: str, counts: dict[str, int], failed: int) -> None:
        super().__init__(message)
        self.counts = counts
        self.failed = failed


def produce(
    events: Iterable[SimEvent],
    bootstrap: str,
    rate: float | None,
    stop: threading.Event | None = None,
    on_sent: Callable[[SimEvent], None] | None = None,
) -> dict[str, int]:
    """Send events to Kafka at ``rate`` events/s (None: as fast as possible); counts per topic.

    Pacing works in bursts of about 1/100 s so the producer can batch; ``stop`` ends the run
    early (also while waiting). ``on_sent`` runs in the caller's thread once a message is
    handed to the producer. Raises ``ProduceError`` if the broker refused any message.
    """
    if rate is not None and rate <= 0:
        raise ValueError("rate must be > 0 or None")
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks=1)
    counts: dict[str, int] = {}
    failures: list[BaseException] = []
    burst = 1 if rate is None else max(1, min(1000, int(rate / 100)))
    sent = 0
    started = time.monotonic()
    try:
        for event in events:
            if stop is not None and stop.is_set():
                break
            if rate is not None and sent and sent % burst == 0:
                delay = started + sent / rate - time.monotonic()
                if delay > 0:
                    if stop is not None:
                        if stop.wait(delay):
                            break
                    else:
                        time.sleep(delay)
            future = producer.send(event.topic, value=event.value, key=event.key)
            future.add_errback(failures.append)
            counts[event.topic] = counts.get(event.topic, 0) + 1
            sent += 1
            if on_sent is not None:
                on_sent(event)
        producer.flush()
    finally:
        producer.close()
    if failures:
        message = f"{len(failures)} of {sent} messages failed: {failures[0]!r}"
        raise ProduceError(message, counts, len(failures))
    return counts
