"""`signalbank dev` keeps going when its worker or Redis is killed, and knows when it cannot."""

from __future__ import annotations

import os

import pytest
from kafka import KafkaConsumer, TopicPartition

from schemas.catalog import INPUT_TOPICS
from streams.dev.embedded import EmbeddedKafka
from streams.dev.supervision import BrokerLost, DevSupervisor, committed_events
from streams.kafka.admin import create_topics
from tests.support.kafka_io import produce


class Fake:
    """A process that is alive until killed; ``start`` brings it back (pure logic, no server)."""

    def __init__(self) -> None:
        self.running = True
        self.starts = 0

    def alive(self) -> bool:
        return self.running

    def start(self) -> Fake:
        self.running = True
        self.starts += 1
        return self


def test_a_dead_worker_is_replaced_and_a_dead_redis_restarted() -> None:
    workers: list[Fake] = []

    def start_worker() -> Fake:
        workers.append(Fake())
        return workers[-1]

    redis, broker = Fake(), Fake()
    said: list[str] = []
    supervisor = DevSupervisor(said.append, start_worker, redis, broker)
    supervisor.poll()
    assert len(workers) == 1 and redis.starts == 0
    workers[0].running = redis.running = False
    supervisor.poll()
    assert len(workers) == 2 and supervisor.worker is workers[1] and redis.starts == 1
    assert (supervisor.worker_restarts, supervisor.redis_restarts) == (1, 1)
    assert any("worker stopped" in line for line in said)


def test_a_dead_broker_ends_the_run() -> None:
    broker = Fake()
    supervisor = DevSupervisor(lambda _: None, Fake, None, broker)
    broker.running = False
    with pytest.raises(BrokerLost):
        supervisor.poll()


def test_committed_events_sums_what_the_group_committed(kafka_server: EmbeddedKafka) -> None:
    create_topics(kafka_server.bootstrap, partitions=4)
    group = f"committed-{os.getpid()}"
    assert committed_events(kafka_server.bootstrap, group) == 0
    produce(kafka_server.bootstrap, [(INPUT_TOPICS[0], b"C1", b"{}")] * 5)
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_server.bootstrap, group_id=group, enable_auto_commit=False
    )
    try:
        partitions = [
            TopicPartition(INPUT_TOPICS[0], p) for p in consumer.partitions_for_topic(INPUT_TOPICS[0]) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        read, idle = 0, 0
        for _ in range(200):  # read until the partitions stay empty (at most 50 s)
            got = sum(len(records) for records in consumer.poll(timeout_ms=250).values())
            read, idle = read + got, (idle + 1 if got == 0 and read else 0)
            if idle >= 4:
                break
        consumer.commit()
    finally:
        consumer.close()
    assert read >= 5  # the session broker may hold this topic's records of other tests too
    assert committed_events(kafka_server.bootstrap, group) == read
