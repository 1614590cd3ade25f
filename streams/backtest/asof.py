"""Every customer as of given days: profiles built from event files in this process, with no Redis.

``churn fit`` labels customers as of past days and ``replay --scores-at`` scores them as of a day;
both need the profile of every customer known by then, silent ones included, exactly as the worker
would build it at that moment. The profile state is the worker's own (``ProfileState``: the same
operations, windows, dedupe and rhythm), applied here event by event, and the profile and the
rules are read as a silence check at the end of the day (23:59:59.999 UTC) would read them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from agents.decode import decode
from agents.pipeline import PipelineConfig
from rules.evaluate.engine import Evaluation, evaluate
from rules.load.ruleset import Ruleset
from schemas.outputs import DeadLetter
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.churn_probability import ChurnProbability
from schemas.profile.delta import MS_PER_DAY, build_update, event_millis, is_customer_activity
from schemas.profile.view import build_profile, neutral_event
from sinks.redis.profile_state import ProfileState
from streams.backtest.eventfiles import MergeStats, merged
from streams.config import StoreConfig

_EPOCH = date(1970, 1, 1)


def epoch_day(day: date) -> int:
    return (day - _EPOCH).days


def day_of(epoch: int) -> date:
    return _EPOCH + timedelta(days=epoch)


@dataclass(frozen=True, slots=True)
class AsOf:
    """One customer as of the end of a day: the rules' evaluation (its context holds the profile)."""

    customer_id: str
    evaluation: Evaluation


@dataclass(slots=True)
class Activity:
    """Per customer, the days with customer activity (the worker's notion), for labels and BG/NBD."""

    days: dict[str, list[int]]  # ascending epoch days
    events: int
    skipped: int  # lines the worker would dead-letter
    first_day: int
    last_day: int


def activity(paths: Sequence[Path], config: PipelineConfig) -> Activity:
    """One pass over the files: each customer's active days, and the span of the history."""
    found: dict[str, set[int]] = {}
    stats = MergeStats()
    events = skipped = 0
    first = last = -1
    for record in merged(paths, stats):
        event = decode(
            record,
            datetime.fromtimestamp(stats.last_ms / 1000, tz=UTC),
            config.max_future,
            rates=config.rates,
        )
        if isinstance(event, DeadLetter):
            skipped += 1
            continue
        events += 1
        day = event_millis(event) // MS_PER_DAY
        first = day if first < 0 else min(first, day)
        last = max(last, day)
        days = found.setdefault(event.customer_id, set())
        if is_customer_activity(event):
            days.add(day)
    return Activity({c: sorted(d) for c, d in found.items()}, events, skipped, first, last)


def as_of(
    paths: Sequence[Path],
    config: PipelineConfig,
    store: StoreConfig,
    ruleset: Ruleset,
    days: Sequence[int],
    model: BgNbdParams | None,
    scored: bool = False,
) -> Iterator[tuple[int, list[AsOf]]]:
    """Yield (epoch day, every customer known by its end) for each of ``days``, in ascending order.

    ``model``: behind p_alive; ``scored``: evaluate with its churn probability too (else the churn
    score is the rules' noisy-OR and ``evaluation.fired`` lists every churn rule that holds).
    """
    wanted = sorted(set(days))
    states: dict[str, ProfileState] = {}
    stats = MergeStats()
    churn = model.probability if scored and model is not None else None
    for record in merged(paths, stats):
        event = decode(
            record,
            datetime.fromtimestamp(stats.last_ms / 1000, tz=UTC),
            config.max_future,
            rates=config.rates,
        )
        if isinstance(event, DeadLetter):
            continue
        update = build_update(event, config.home_bank)
        while wanted and update.day > wanted[0]:
            day = wanted.pop(0)
            yield day, _snapshot(states, ruleset, day, model, churn)
        state = states.get(event.customer_id)
        if state is None:
            state = states[event.customer_id] = ProfileState()
        state.apply(update, store.retention_days, store.dedupe_capacity, {})
    for day in wanted:
        yield day, _snapshot(states, ruleset, day, model, churn)


def _snapshot(
    states: dict[str, ProfileState],
    ruleset: Ruleset,
    day: int,
    model: BgNbdParams | None,
    churn: ChurnProbability | None,
) -> list[AsOf]:
    now_ms = (day + 1) * MS_PER_DAY - 1
    today = day_of(day)
    check = neutral_event("check", f"asof:{today.isoformat()}")
    found: list[AsOf] = []
    for customer_id, state in states.items():
        ref = state.ref_day
        sums = state.sums if ref is None or day <= ref else state.sums_as_of(day)
        flat = tuple(value for window in sums for value in window)
        profile = build_profile(
            customer_id, state.fields, flat, now_ms, model, state.active_days, state.active
        )
        evaluation = evaluate(ruleset, profile, dict(check), today, churn)
        found.append(AsOf(customer_id, evaluation))
    return found
