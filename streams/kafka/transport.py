"""Faust's aiokafka transport with the one consumer setting Faust does not expose: how long a fetch
may wait at the broker for new events.

Faust fixes it at 1,500 ms. Apache Kafka answers a waiting fetch as soon as data arrives, so there
the value only matters for idle partitions. The embedded Tansu (0.6.0, ``FetchService::fetch`` in
tansu-storage) polls instead: a fetch that finds nothing sleeps half of what is left of the wait,
looks again, sleeps half again, ... So an event arriving just after a look waits up to half the
fetch wait before the worker sees it: with Faust's 1,500 ms, p50 latency was ~640 ms even at
50 events/s (docs/performance.md); with 100 ms, fetches that found nothing took 50-60 ms and an
event spent p50 ~40 ms between its producer and the worker at 800 events/s, ~20 ms with 20 ms.
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
