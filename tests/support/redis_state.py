"""Redis state and pipelines for tests, built as the runtime builds them (``redis_state``)."""

from __future__ import annotations

from datetime import timedelta

from agents.checks import SilenceChecks
from agents.metrics import Metrics
from agents.pipeline import Pipeline, PipelineConfig
from rules.load.ruleset import Ruleset
from sinks.redis.client import connect
from sinks.redis.keys import DEDUPE_CAPACITY
from sinks.redis.state import RedisState, redis_state


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
