"""The one function that turns the settings into the pipeline's configuration.

The worker, replay, backtests, ``churn fit`` and the benchmarks all build theirs here, so an
operator's ``SIGNALBANK_CHECK_AFTER_S`` or ``SIGNALBANK_RETENTION_DAYS`` means the same everywhere.
"""

from __future__ import annotations

from datetime import timedelta

from agents.pipeline import PipelineConfig
from schemas.profile.bgnbd import BgNbdParams
from streams.settings import Settings


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
    )
