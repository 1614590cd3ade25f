"""Fit the churn model from event files (``signalbank churn fit``): BG/NBD's population parameters
and the churn probability on top of them.

The per-customer history (``streams.backtest.asof.activity``) is built exactly as the worker builds
it: the same decoding, the same notion of customer activity (no salary, fee or interest postings)
and the same day granularity, so fitted parameters mean the same thing when the worker applies them.
Lines the worker would dead-letter are skipped and counted.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from agents.pipeline import PipelineConfig
from rules.load.ruleset import Ruleset
from schemas.profile.bgnbd import BgNbdParams, fit
from schemas.profile.churn_probability import FEATURE_NAMES, ChurnProbability, FitQuality, feature_values
from streams.backtest.asof import Activity, AsOf, activity, as_of, day_of
from streams.config import StoreConfig


@dataclass(frozen=True, slots=True)
class FitOptions:
    """How ``signalbank churn fit`` cuts the history into labelled rows (docs/backtesting.md)."""

    horizon_days: int = 90  # the probability is of being lost within this many days
    lost_share: float = 0.2  # lost: active on fewer than this share of the days their rate predicts
    step_days: int = 15  # a split every this many days
    warmup_days: int = 45  # no split before this many days of history
    min_window_days: int = 30  # a label needs at least this many days observed after its split
    min_rule_rows: int = 20  # a rule holding in fewer training rows keeps its YAML weight


@dataclass(frozen=True, slots=True)
class Rows:
    """Labelled customers as of split days: features (rhythm then rules), label, split day."""

    features: list[list[float]]
    lost: list[bool]
    days: list[int]


@dataclass(frozen=True, slots=True)
class ChurnFit:
    model: BgNbdParams  # with its ``probability``
    events: int
    skipped: int
    rows: int  # labelled rows the final model was fitted on
    split_days: tuple[int, ...]
    eval_day: int | None  # the later split the quality is measured on (None: history too short)


def is_lost(
    active_days: Sequence[int], day: int, until: int, long_gap: float, options: FitOptions
) -> bool | None:
    """The label of a customer as of the end of ``day``, from what they did up to ``until``.

    Lost: active on fewer than ``lost_share`` of the days their own rate up to ``day`` predicts for
    the horizon (so: not at all, for someone active a few times a year). When fewer than
    ``horizon_days`` are observed after ``day`` (censoring), a customer active enough already is
    kept, and one who is not is judged on the observed days only if they are at least
    ``min_window_days`` and twice their long gap (``long_gap``: the p90 of their gaps), else left
    out (None). None too for a customer with no activity by ``day``.
    """
    before = bisect_right(active_days, day)
    window = min(options.horizon_days, until - day)
    if before == 0 or window <= 0:
        return None
    after = bisect_right(active_days, day + window) - before
    rate = min(1.0, before / (day - active_days[0] + 1))
    if after > 0 and after >= options.lost_share * rate * options.horizon_days:
        return False
    if window >= options.horizon_days:
        return True
    if window < max(options.min_window_days, 2 * long_gap):
        return None
    return after == 0 or after < options.lost_share * rate * window


def split_days(first_day: int, last_day: int, options: FitOptions) -> tuple[list[int], int | None]:
    """(every split day, the evaluation split: the latest whose horizon is observed in full, with a
    split before it to fit on; None when the history is too short for one)."""
    splits = list(
        range(first_day + options.warmup_days, last_day - options.min_window_days + 1, options.step_days)
    )
    if not splits:
        needed = options.warmup_days + options.min_window_days
        raise ValueError(
            f"the history spans {last_day - first_day + 1} days; fitting the churn probability needs at "
            f"least {needed} (warm-up {options.warmup_days}, then {options.min_window_days} days to label)"
        )
    eval_day = last_day - options.horizon_days
    if eval_day - options.step_days < splits[0]:
        return splits, None
    return sorted({*splits, eval_day}), eval_day


def fit_bgnbd(found: Activity, day: int) -> BgNbdParams:
    """BG/NBD fitted on the history up to ``day`` only (customers never active before it left out)."""
    x: list[int] = []
    t_x: list[int] = []
    ages: list[int] = []
    for days in found.days.values():
        upto = days[: bisect_right(days, day)]
        if upto:
            x.append(len(upto) - 1)
            t_x.append(upto[-1] - upto[0])
            ages.append(day - upto[0])
    if not x:
        raise ValueError(f"no customer activity before {day_of(day)}")
    return fit(x, t_x, ages)


def labelled_rows(
    snapshots: Sequence[tuple[int, Sequence[AsOf]]],
    found: Activity,
    rule_ids: Sequence[str],
    until: int,
    options: FitOptions,
) -> Rows:
    """One row per customer known by each split day (labels seen up to ``until``): rhythm features,
    which churn rules hold, label."""
    column = {rule: index for index, rule in enumerate(rule_ids)}
    rows = Rows([], [], [])
    for day, customers in snapshots:
        for entry in customers:
            profile = entry.evaluation.context["profile"]
            days = found.days.get(entry.customer_id, [])
            label = is_lost(days, day, until, float(profile["activity_gap_p90_days"]), options)
            if label is None:
                continue
            flags = [0.0] * len(rule_ids)
            for fired in entry.evaluation.fired:
                at = column.get(fired.rule.id)
                if at is not None:
                    flags[at] = 1.0
            rows.features.append(feature_values(profile) + flags)
            rows.lost.append(label)
            rows.days.append(day)
    return rows


def _logistic(features: np.ndarray, lost: Sequence[bool]) -> Pipeline:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
    model.fit(features, np.asarray(lost, dtype=int))
    return model


def _weights(model: Pipeline, names: Sequence[str]) -> tuple[float, dict[str, float]]:
    """Intercept and per-column weights on the raw (unscaled) features."""
    scaler: StandardScaler = model.named_steps["standardscaler"]
    logistic: LogisticRegression = model.named_steps["logisticregression"]
    scaled = logistic.coef_[0] / scaler.scale_
    intercept = float(logistic.intercept_[0] - np.dot(scaled, scaler.mean_))
    return intercept, {name: float(w) for name, w in zip(names, scaled, strict=True)}


def _fit_rows(
    rows: Rows, rule_ids: Sequence[str], options: FitOptions
) -> tuple[Pipeline, list[str], list[int]]:
    """Logistic regression on the rows: rules seen often enough, none with a negative weight (a churn
    rule may only add evidence). Returns the model, its column names and their positions in a row."""
    if len(set(rows.lost)) < 2:
        raise ValueError("the labelled customers are all lost or all kept: nothing to learn from")
    matrix = np.asarray(rows.features)
    base = len(FEATURE_NAMES)
    support = matrix[:, base:].sum(axis=0) if rule_ids else np.zeros(0)
    columns = [*range(base), *(base + i for i, n in enumerate(support) if n >= options.min_rule_rows)]
    while True:
        names = [FEATURE_NAMES[c] if c < base else rule_ids[c - base] for c in columns]
        model = _logistic(matrix[:, columns], rows.lost)
        _, weights = _weights(model, names)
        negative = {c for c, n in zip(columns, names, strict=True) if c >= base and weights[n] < 0}
        if not negative:
            return model, names, columns
        columns = [c for c in columns if c not in negative]


def fit_probability(
    paths: Sequence[Path],
    config: PipelineConfig,
    store: StoreConfig,
    ruleset: Ruleset,
    options: FitOptions = FitOptions(),
) -> ChurnFit:
    """Fit BG/NBD and the churn probability on event files; quality measured on a later split by a
    model fitted only on what was known by then (docs/backtesting.md)."""
    found = activity(paths, config)
    if not any(found.days.values()):
        raise ValueError("no customer activity in the given files")
    splits, eval_day = split_days(found.first_day, found.last_day, options)
    bgnbd = fit_bgnbd(found, found.last_day)
    rule_ids = [rule.id for rule in ruleset.churn_rules if rule.enabled]
    snapshots = list(as_of(paths, config, store, ruleset, splits, bgnbd))
    quality = None
    if eval_day is not None:
        quality = _quality(snapshots, found, rule_ids, eval_day, options, day_of(eval_day).isoformat())
    rows = labelled_rows(snapshots, found, rule_ids, found.last_day, options)
    model, names, _ = _fit_rows(rows, rule_ids, options)
    intercept, weights = _weights(model, names)
    means = np.asarray(rows.features)[:, : len(FEATURE_NAMES)].mean(axis=0)
    fitted_rules = {n: w for n, w in weights.items() if n not in FEATURE_NAMES}
    seen = np.asarray(rows.features)[:, len(FEATURE_NAMES) :].sum(axis=0) if rule_ids else []
    dropped = {
        r: 0.0
        for r, n in zip(rule_ids, seen, strict=True)
        if n >= options.min_rule_rows and r not in fitted_rules
    }
    probability = ChurnProbability(
        horizon_days=options.horizon_days,
        lost_share=options.lost_share,
        intercept=intercept,
        features={n: weights[n] for n in FEATURE_NAMES},
        feature_means={n: float(m) for n, m in zip(FEATURE_NAMES, means, strict=True)},
        rules=fitted_rules | dropped,
        quality=quality,
    )
    return ChurnFit(
        bgnbd.model_copy(update={"probability": probability}),
        found.events,
        found.skipped,
        len(rows.lost),
        tuple(splits),
        eval_day,
    )


def _quality(
    snapshots: Sequence[tuple[int, Sequence[AsOf]]],
    found: Activity,
    rule_ids: Sequence[str],
    eval_day: int,
    options: FitOptions,
    label: str,
) -> FitQuality:
    """AUROC, average precision and Brier score at ``eval_day`` of a model fitted on the splits
    before it with labels from the days up to it: nothing after the split is seen by the fit."""
    earlier = [(day, c) for day, c in snapshots if day < eval_day]
    train = labelled_rows(earlier, found, rule_ids, eval_day, options)
    held = labelled_rows(
        [(d, c) for d, c in snapshots if d == eval_day], found, rule_ids, found.last_day, options
    )
    lost = sum(held.lost)
    if not held.lost or lost in (0, len(held.lost)) or len(set(train.lost)) < 2:
        return FitQuality(split_day=label, customers=len(held.lost), lost=lost)
    model, _, columns = _fit_rows(train, rule_ids, options)
    predicted = model.predict_proba(np.asarray(held.features)[:, columns])[:, 1]
    return FitQuality(
        split_day=label,
        customers=len(held.lost),
        lost=lost,
        auroc=round(float(roc_auc_score(held.lost, predicted)), 4),
        average_precision=round(float(average_precision_score(held.lost, predicted)), 4),
        brier=round(float(brier_score_loss(held.lost, predicted)), 4),
    )
