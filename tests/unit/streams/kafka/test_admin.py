"""Topic administration: the contract's topics as it wants them (fixed partitions, compaction), created
on the embedded broker only when missing, and Faust-style broker URLs for kafka-python."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
from kafka import KafkaConsumer
from kafka.errors import KafkaError

from schemas.catalog import CHURN_ALERTS, CUSTOMERS, DEAD_LETTERS, RULES_CONTROL, TOPIC_MODELS, TRANSACTIONS
from streams.dev.embedded import EmbeddedKafka
from streams.kafka.admin import ALL_TOPICS, bootstrap_of, create_topics, new_topic


def partitions_of(bootstrap: str, names: list[str]) -> dict[str, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return {name: len(consumer.partitions_for_topic(name) or ()) for name in names}
    finally:
        consumer.close()


def test_missing_topics_are_created_once_with_the_partitions_asked_for(kafka_server: EmbeddedKafka) -> None:
    run = uuid.uuid4().hex[:8]
    first, second = f"test.admin.{run}.a", f"test.admin.{run}.b"
    assert create_topics(kafka_server.bootstrap, partitions=3, names=[first]) == [first]
    assert create_topics(kafka_server.bootstrap, partitions=2, names=[first, second]) == [second]
    assert create_topics(kafka_server.bootstrap, partitions=2, names=[first, second]) == []
    assert partitions_of(kafka_server.bootstrap, [first, second]) == {first: 3, second: 2}


def test_the_contract_wants_one_control_partition_and_compacted_state_topics() -> None:
    control = new_topic(RULES_CONTROL, 8, 3)
    assert (control.num_partitions, control.replication_factor) == (1, 3)
    assert control.topic_configs == {"cleanup.policy": "compact"}
    customers = new_topic(CUSTOMERS, 8, 1)
    assert (customers.num_partitions, customers.topic_configs) == (8, {"cleanup.policy": "compact"})
    week, month = str(7 * 86_400_000), str(30 * 86_400_000)
    for name in (TRANSACTIONS, CHURN_ALERTS):
        topic = new_topic(name, 6, 1)
        assert (topic.num_partitions, topic.topic_configs) == (
            6,
            {"cleanup.policy": "delete", "retention.ms": week},
        )
    assert new_topic(DEAD_LETTERS, 6, 1).topic_configs["retention.ms"] == month


def test_every_catalogue_topic_is_created() -> None:
    assert set(ALL_TOPICS) == set(TOPIC_MODELS)
    assert len(ALL_TOPICS) == len(TOPIC_MODELS)


def test_faust_broker_urls_become_kafka_python_bootstrap_lists() -> None:
    assert bootstrap_of("kafka://127.0.0.1:9092") == "127.0.0.1:9092"
    assert bootstrap_of("kafka://a:1;kafka://b:2") == "a:1,b:2"
    assert bootstrap_of(" kafka://a:1 , b:2 ;") == "a:1,b:2"


def test_an_unreachable_broker_is_given_up_after_the_timeout() -> None:
    """kafka-python's own 30 s bootstrap wait does not override ours."""
    with socket.socket() as sock:  # a free port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(KafkaError):
        create_topics(f"127.0.0.1:{port}", partitions=1, timeout=2.0)
    assert time.monotonic() - started < 10
