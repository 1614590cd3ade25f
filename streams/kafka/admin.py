"""Topic administration with kafka-python: create the contract's topics if they are missing."""

from __future__ import annotations

import time
from collections.abc import Sequence

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from schemas.catalog import CONTROL_TOPICS, INPUT_TOPICS, OUTPUT_TOPICS
from streams.kafka.topics import COMPACTED_TOPICS, FIXED_PARTITIONS

#: Every topic of the contract, in creation order.
ALL_TOPICS: tuple[str, ...] = (*INPUT_TOPICS, *OUTPUT_TOPICS, *CONTROL_TOPICS)


def bootstrap_of(url: str) -> str:
    """``kafka://host:port;kafka://other`` (Faust style) -> ``host:port,other`` (kafka-python style)."""
    parts = [p.strip() for p in url.replace(";", ",").split(",") if p.strip()]
    return ",".join(p.split("://", 1)[-1] for p in parts)


def new_topic(name: str, partitions: int, replication: int) -> NewTopic:
    """The topic as the contract wants it: control topics keep their fixed partition count."""
    return NewTopic(
        name,
        FIXED_PARTITIONS.get(name, partitions),
        replication,
        topic_configs={"cleanup.policy": "compact"} if name in COMPACTED_TOPICS else {},
    )


def create_topics(
    bootstrap: str,
    partitions: int,
    replication: int = 1,
    timeout: float = 30.0,
    names: Sequence[str] = ALL_TOPICS,
) -> list[str]:
    """Create every topic in ``names`` (default: all of the contract) that does not exist yet;
    return the ones created."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="signalbank-admin")
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        wanted = [new_topic(name, partitions, replication) for name in names if name not in existing]
        created = []
        for topic in wanted:
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()
