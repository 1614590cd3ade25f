"""Faust's aiokafka transport with the one consumer setting Faust does not expose: how long a fetch
may wait at the broker for new events.

Faust fixes it at 1,500 ms. Apache Kafka answers a waiting fetch as soon as data arrives, so there
the value only matters for idle partitions; the embedded Tansu broker holds the fetch for the whole
wait, which made every event wait up to 1.5 s before the worker saw it (measured: p50 latency
~640 ms at 50 events/s, ~55 ms with a 50 ms wait; docs/performance.md).
"""

from __future__ import annotations

from typing import Any

import aiokafka
from faust.transport.drivers import aiokafka as faust_aiokafka


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    fetch_max_wait_ms: int = 1500

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka hands this to its fetcher when the consumer starts (after this method).
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms
        return consumer


def transport_class(fetch_max_wait_ms: int) -> type[faust_aiokafka.Transport]:
    """A Faust transport whose worker consumers wait at most ``fetch_max_wait_ms`` per fetch."""
    thread_class = type("ConsumerThread", (_ConsumerThread,), {"fetch_max_wait_ms": fetch_max_wait_ms})

    class ShortWaitConsumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
            thread: faust_aiokafka.AIOKafkaConsumerThread = thread_class(
                self, loop=self.loop, beacon=self.beacon
            )
            return thread

    class Transport(faust_aiokafka.Transport):
        Consumer = ShortWaitConsumer

    return Transport
