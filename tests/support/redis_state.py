"""Redis state and pipelines for tests, built as the runtime builds them (``redis_state``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from agents.checks import SilenceChecks
from agents.metrics import Metrics
from agents.pipeline import Pipeline, PipelineConfig
from rules.load.ruleset import Ruleset
from sinks.redis.client import RedisClient, connect
from sinks.redis.keys import DEDUPE_CAPACITY
from sinks.redis.state import RedisState, redis_state

T = TypeVar("T")


def with_state(url: str, body: Callable[[RedisState], Awaitable[T]]) -> T:
    """Run ``body`` on a new Redis state of ``url`` in its own event loop, closing it after."""

    async def go() -> T:
        state = make_state(url)
        try:
            return await body(state)
        finally:
            await state.aclose()

    return asyncio.run(go())


def with_client(url: str, body: Callable[[RedisClient], Awaitable[T]]) -> T:
    """Run ``body`` on a new client of ``url`` (one server or a cluster), closing it after."""

    async def go() -> T:
        client = connect(url)
        try:
            return await body(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def make_state(url: str, retention_days: int = 90, dedupe_capacity: int = DEDUPE_CAPACITY) -> RedisState:
    """Profiles, claims and schedule on a new client of ``url`` (close it with ``aclose``)."""
    return redis_state(connect(url), retention_days, dedupe_capacity)


def make_pipeline(url: str, ruleset: Ruleset, metrics: Metrics | None = None) -> Pipeline:
    """The worker's pipeline on ``url`` with the settings' defaults."""
    return Pipeline(
        make_state(url),
        lambda: ruleset,
        metrics or Metrics(),
        PipelineConfig("SIGNALBANK", timedelta(days=1)),
    )


def make_checks(pipeline: Pipeline, state: RedisState, metrics: Metrics | None = None) -> SilenceChecks:
    """Silence checks of ``pipeline`` against ``state``'s schedule."""
    return SilenceChecks(pipeline, state.schedule, metrics or Metrics())
