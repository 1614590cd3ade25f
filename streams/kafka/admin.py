"""Topic administration with kafka-python: create the contract's topics if they are missing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from streams.kafka.topics import topic_spec, topic_specs

#: Every topic of the contract, in creation order.
ALL_TOPICS: tuple[str, ...] = tuple(spec.name for spec in topic_specs())


def bootstrap_of(url: str) -> str:
    """``kafka://host:port;kafka://other`` (Faust style) -> ``host:port,other`` (kafka-python style)."""
    parts = [p.strip() for p in url.replace(";", ",").split(",") if p.strip()]
    return ",".join(p.split("://", 1)[-1] for p in parts)


def connect_admin(options: dict[str, Any]) -> KafkaAdminClient:
    """A bootstrapped admin client (``options``: KafkaAdminClient's). When the bootstrap fails,
    kafka-python has already started the client's network thread and keeps no reference to stop
    it: it is stopped here, or every failed attempt against a broker that is down would leave a
    thread behind."""
    admin = KafkaAdminClient.__new__(KafkaAdminClient)
    try:
        admin.__init__(**options)
    except BaseException:
        client, net = getattr(admin, "_client", None), getattr(admin, "_net", None)
        if client is not None:
            client.close()
        if net is not None:
            net.stop(int(options.get("bootstrap_timeout_ms", 3_000)))
        raise
    return admin


def new_topic(name: str, partitions: int, replication: int) -> NewTopic:
    """The topic as the contract wants it (``streams/kafka/topics.py``): control topics keep their
    fixed partition count, state topics are compacted, the others have their retention."""
    spec = topic_spec(name)
    return NewTopic(name, spec.partitions_for(partitions), replication, topic_configs=spec.configs())


def create_topics(
    bootstrap: str,
    partitions: int,
    replication: int = 1,
    timeout: float = 30.0,
    names: Sequence[str] = ALL_TOPICS,
) -> list[str]:
    """Create every topic in ``names`` (default: all of the contract) that does not exist yet;
    return the ones created. Gives up after about ``timeout`` seconds without a broker (each
    bootstrap attempt is bounded by what is left of it, not kafka-python's own 30 s)."""
    deadline = time.monotonic() + timeout
    while True:
        left_ms = max(500, int((deadline - time.monotonic()) * 1000))
        options = {"bootstrap_servers": bootstrap, "client_id": "signalbank-admin"}
        try:
            admin = connect_admin({**options, "bootstrap_timeout_ms": left_ms})
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
