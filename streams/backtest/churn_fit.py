"""Fit the BG/NBD churn model's population parameters from event files (``signalbank churn fit``).

The per-customer history is built exactly as the worker builds it: the same decoding, the same
notion of customer activity (``is_customer_activity``: no salary, fee or interest postings) and the
same day granularity, so fitted parameters mean the same thing when the worker applies them. Lines
are decoded as replay decodes them (the settings' ``max_future``, the clock being the latest event
time read), so the lines skipped are the ones a replay would dead-letter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agents.decode import decode
from agents.pipeline import PipelineConfig
from schemas.outputs import DeadLetter
from schemas.profile.bgnbd import BgNbdParams, fit
from schemas.profile.delta import MS_PER_DAY, event_millis, is_customer_activity
from streams.backtest.eventfiles import MergeStats, merged


@dataclass(slots=True)
class _History:
    first: int
    last: int
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class FitResult:
    params: BgNbdParams
    events: int
    skipped: int  # invalid lines (they would be dead-lettered by the worker)
    customers_without_activity: int


def histories(paths: Sequence[Path], config: PipelineConfig) -> tuple[dict[str, _History], int, int, int]:
    """Active-day history per customer; also events read, invalid lines, and the last event day."""
    found: dict[str, _History] = {}
    stats = MergeStats()
    events = skipped = 0
    for record in merged(paths, stats):
        watermark = datetime.fromtimestamp(stats.last_ms / 1000, tz=UTC)
        event = decode(record, watermark, config.max_future)
        if isinstance(event, DeadLetter):
            skipped += 1
            continue
        events += 1
        if not is_customer_activity(event):
            found.setdefault(event.customer_id, _History(-1, -1))
            continue
        day = event_millis(event) // MS_PER_DAY
        history = found.get(event.customer_id)
        if history is None or history.first < 0:
            found[event.customer_id] = _History(day, day)
        elif day > history.last:
            history.last, history.repeat = day, history.repeat + 1
    return found, events, skipped, stats.last_ms // MS_PER_DAY


def fit_files(paths: Sequence[Path], config: PipelineConfig) -> FitResult:
    """Fit on every customer with at least one active day, observed until the last event's day;
    ``config`` is the worker's (``streams.config.pipeline_config``)."""
    found, events, skipped, end_day = histories(paths, config)
    active = [h for h in found.values() if h.first >= 0]
    if not active:
        raise ValueError("no customer activity in the given files")
    params = fit(
        [h.repeat for h in active],
        [h.last - h.first for h in active],
        [end_day - h.first for h in active],
    )
    return FitResult(params, events, skipped, len(found) - len(active))
