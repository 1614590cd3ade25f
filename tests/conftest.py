"""Session-wide real servers: the embedded Tansu broker and a Redis server on free loopback ports.

Objects built on them (Redis state, pipelines, events) are in tests/support/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from rules.load.ruleset import Ruleset, load_ruleset
from streams.dev.cluster import EmbeddedRedisCluster
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.settings import DEFAULT_RULES_DIR

RULES_DIR = DEFAULT_RULES_DIR


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kafka_server() -> Iterator[EmbeddedKafka]:
    server = EmbeddedKafka()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_broker() -> Iterator[EmbeddedKafka]:
    """A broker of the test's own: for tests that leave consumer groups and offsets behind, or read
    every output of their broker from the start (the session's broker keeps all of them)."""
    with EmbeddedKafka() as broker:
        yield broker


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    """A clean database for each test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    yield redis_server.url


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[EmbeddedRedisCluster]:
    """A real 3-master Redis Cluster, started only when a test asks for it (about 2 s)."""
    cluster = EmbeddedRedisCluster(masters=3, persistent=False)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_cluster_url(redis_cluster: EmbeddedRedisCluster) -> Iterator[str]:
    """Every master emptied for each test; the ``redis+cluster://`` address signalbank takes."""
    redis_cluster.flushall()
    yield redis_cluster.url


@pytest.fixture(scope="session")
def ruleset() -> Ruleset:
    return load_ruleset([RULES_DIR])


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


__all__ = ["RULES_DIR", "Path", "run"]
