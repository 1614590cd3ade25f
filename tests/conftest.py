"""Session-wide real servers: the embedded Tansu broker and a Redis server on free loopback ports."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from agents.metrics import Metrics
from agents.pipeline import Pipeline, PipelineConfig
from rules.load.ruleset import Ruleset, load_ruleset
from sinks.redis.client import connect
from sinks.redis.keys import DEDUPE_CAPACITY
from sinks.redis.store import ProfileStore
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
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    """A clean database for each test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    yield redis_server.url


@pytest.fixture(scope="session")
def ruleset() -> Ruleset:
    return load_ruleset([RULES_DIR])


def make_store(url: str, retention_days: int = 90, dedupe_capacity: int = DEDUPE_CAPACITY) -> ProfileStore:
    return ProfileStore(connect(url), retention_days, dedupe_capacity)


def make_pipeline(url: str, ruleset: Ruleset, metrics: Metrics | None = None) -> Pipeline:
    from datetime import timedelta

    return Pipeline(
        make_store(url),
        lambda: ruleset,
        metrics or Metrics(),
        PipelineConfig("SIGNALBANK", timedelta(days=1)),
    )


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


__all__ = ["RULES_DIR", "Path", "make_pipeline", "make_store", "run"]
