"""The functions that turn the settings into what the pipeline, the profile store and the silence
checks are configured with, one function per object.

The worker, replay, backtests, ``churn fit`` and the benchmarks all build theirs here, so an
operator's ``SIGNALBANK_CHECK_AFTER_S`` or ``SIGNALBANK_RETENTION_DAYS`` means the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from agents.pipeline import PipelineConfig
from agents.timeline import TimelineLimits
from agents.timer import TimerConfig
from schemas.money import RateTable, read_rates
from schemas.profile.bgnbd import BgNbdParams
from sinks.redis.client import connect
from sinks.redis.state import RedisState, redis_state
from streams.settings import Settings


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """What the Redis profile store is built with."""

    retention_days: int  # day buckets older than this are trimmed
    dedupe_capacity: int  # a repeat of any of a customer's last this many events is skipped
    profile_cache: int = 20_000  # profiles kept in the worker's memory between batches


def pipeline_config(settings: Settings, churn_model: BgNbdParams | None = None) -> PipelineConfig:
    """What the pipeline needs from ``settings``, with the fitted churn model behind ``p_alive``."""
    return PipelineConfig(
        churn_model=churn_model,
        home_bank=settings.home_bank,
        max_future=timedelta(seconds=settings.max_future_skew_s),
        check_after=timedelta(seconds=settings.check_after_s),
        check_grace=timedelta(seconds=settings.check_grace_s),
        quiet_cap=timedelta(days=settings.check_quiet_cap_days),
        apply_chunk=settings.apply_chunk,
        strict_topics=frozenset(settings.strict_topics),
        timeline=TimelineLimits(settings.timeline_events, settings.timeline_outputs),
        rates=rate_table(settings),
    )


def rate_table(settings: Settings) -> RateTable:
    """The exchange rates ``settings`` name, read once by the entry point (RateTableError when the file
    is unusable: a worker must not start converting money with a table it could not read)."""
    return read_rates(settings.fx_rates_file, settings.reporting_currency)


def store_config(settings: Settings) -> StoreConfig:
    """What the profile store needs from ``settings``: a replay trims and dedupes as the worker does."""
    return StoreConfig(settings.retention_days, settings.dedupe_capacity, settings.profile_cache)


def connect_redis(settings: Settings, url: str | None = None) -> RedisState:
    """The Redis state ``settings`` describe, on a new client of ``url`` (default: the settings' Redis;
    replay and the benchmarks pass an embedded one). A ``redis+cluster://`` URL gives a Redis Cluster
    client (``sinks/redis/client.py``). Nothing is sent until the first call."""
    kept = store_config(settings)
    client = connect(url or settings.redis_url)
    return redis_state(client, kept.retention_days, kept.dedupe_capacity, kept.profile_cache)


def timer_config(settings: Settings) -> TimerConfig:
    """How silence checks are taken: by the worker's timer, and by replay after each batch."""
    return TimerConfig(
        interval_s=settings.check_interval_s,
        batch=settings.check_batch,
        lease=timedelta(seconds=settings.check_lease_s),
    )
