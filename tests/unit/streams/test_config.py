"""The settings reach what the pipeline, the store and the silence checks are built with, field by
field: a non-default value of each setting shows up in the object built from it."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from agents.pipeline import PipelineConfig
from agents.timeline import TimelineLimits
from agents.timer import TimerConfig
from schemas.money import RateTable, RateTableError
from schemas.profile.bgnbd import BgNbdParams
from streams.config import (
    StoreConfig,
    connect_redis,
    pipeline_config,
    rate_table,
    store_config,
    timer_config,
)
from streams.settings import Settings

#: A value of every setting the builders read, none of them the default.
CHANGED = Settings(
    home_bank="OTHERBANK",
    max_future_skew_s=7_200.0,
    check_after_s=3 * 86_400.0,
    check_grace_s=60.0,
    check_quiet_cap_days=30,
    apply_chunk=7,
    retention_days=120,
    dedupe_capacity=32,
    profile_cache=77,
    check_interval_s=2.5,
    check_batch=9,
    check_lease_s=12.0,
    strict_topics=("bank.transactions.v1",),
    timeline_events=5,
    timeline_outputs=6,
    reporting_currency="GBP",
)
MODEL = BgNbdParams(r=0.5, alpha=10.0, a=0.8, b=2.5, customers=100, log_likelihood=-1.0)


def defaults() -> Settings:
    """The declared defaults, whatever ``SIGNALBANK_*`` the environment running the tests holds."""
    return Settings.model_construct()


def test_every_pipeline_setting_reaches_the_pipeline_config() -> None:
    assert pipeline_config(CHANGED, MODEL) == PipelineConfig(
        home_bank="OTHERBANK",
        max_future=timedelta(hours=2),
        check_after=timedelta(days=3),
        check_grace=timedelta(minutes=1),
        quiet_cap=timedelta(days=30),
        churn_model=MODEL,
        apply_chunk=7,
        strict_topics=frozenset({"bank.transactions.v1"}),
        timeline=TimelineLimits(events=5, outputs=6),
        rates=RateTable("GBP"),
    )
    default, changed = pipeline_config(defaults()), pipeline_config(CHANGED, MODEL)
    differing = [
        f.name for f in fields(PipelineConfig) if getattr(default, f.name) != getattr(changed, f.name)
    ]
    assert differing == [f.name for f in fields(PipelineConfig)]  # each field came from a setting


def test_the_settings_defaults_are_the_pipeline_configs_defaults() -> None:
    """Code that builds a ``PipelineConfig`` by hand (tests) gets what an unconfigured worker runs."""
    settings = defaults()
    assert pipeline_config(settings) == PipelineConfig(
        home_bank=settings.home_bank, max_future=timedelta(seconds=settings.max_future_skew_s)
    )


def test_retention_dedupe_capacity_and_profile_cache_reach_the_store_config() -> None:
    assert store_config(CHANGED) == StoreConfig(retention_days=120, dedupe_capacity=32, profile_cache=77)
    assert connect_redis(CHANGED, "redis://127.0.0.1:1").profiles._cache_size == 77  # nothing is sent
    assert asdict(store_config(defaults())) != asdict(store_config(CHANGED))
    assert store_config(defaults()).retention_days == 90


def test_the_check_cadence_reaches_the_timer_config() -> None:
    assert timer_config(CHANGED) == TimerConfig(interval_s=2.5, batch=9, lease=timedelta(seconds=12))
    default = timer_config(defaults())
    assert (default.interval_s, default.batch, default.lease) == (5.0, 500, timedelta(minutes=1))


def test_the_rate_table_comes_from_the_reporting_currency_and_the_rates_file(tmp_path: Path) -> None:
    rates = tmp_path / "rates.yaml"
    rates.write_text("EUR: '1.17'\nUSD: '0.79'\n", encoding="utf-8")
    table = rate_table(Settings(reporting_currency="GBP", fx_rates_file=rates))
    assert table == RateTable("GBP", {"EUR": Decimal("1.17"), "USD": Decimal("0.79")})
    assert rate_table(defaults()) == RateTable("EUR")
    rates.write_text("USD: none\n", encoding="utf-8")
    with pytest.raises(RateTableError, match=str(rates)):
        rate_table(Settings(fx_rates_file=rates))
    with pytest.raises(ValidationError):
        Settings(reporting_currency="euro")
