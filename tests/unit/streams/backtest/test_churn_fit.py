"""Fitting the churn model on event files: per-customer active days as the worker counts them (same
day once, passive postings not at all), lines the worker would dead-letter skipped, and parameters
recovered from a known model and sane on simulated traffic."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from rules.load.ruleset import load_ruleset
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.churn_probability import FEATURE_NAMES
from streams.backtest.asof import activity, as_of, epoch_day
from streams.backtest.churn_fit import FitOptions, fit_bgnbd, fit_probability, is_lost, split_days
from streams.config import pipeline_config, store_config
from streams.settings import Settings
from streams.sim.generator import generate
from streams.sim.jsonl import write_jsonl
from streams.sim.scenario import Scenario
from streams.sim.truth import ground_truth
from tests.unit.schemas.profile.test_bgnbd import TRUE, draw
from tests.unit.streams.backtest.event_rows import T0, login, write


def test_churn_fit_on_event_files_recovers_the_generating_parameters(tmp_path: Path) -> None:
    repeats, last, ages = draw(3000, 365.0, seed=11)
    rows: list[object] = []
    for c, (x, t_x) in enumerate(zip(repeats, last, strict=True)):
        # the first active day, then x more whose last is t_x days later (spread evenly before it)
        days = sorted({0, *(round(t_x * (i + 1) / x) for i in range(x))}) if x else [0]
        rows.extend(login(f"C{c}", i, T0 + timedelta(days=d, hours=10)) for i, d in enumerate(days))
    rows.append(login("END", 0, T0 + timedelta(days=ages[0], hours=10)))
    rows.sort(key=lambda r: r["occurred_at"])  # type: ignore[index]
    found = activity([write(tmp_path / "interactions.jsonl", rows)], pipeline_config(Settings()))
    assert found.events == len(rows) and found.skipped == 0
    params = fit_bgnbd(found, found.last_day)
    # same-day repeats collapse to one active day, so allow a looser fit than the continuous one
    assert abs(params.r - TRUE.r) / TRUE.r < 0.35
    assert abs(params.a - TRUE.a) / TRUE.a < 0.5


def posting(customer: str, n: int, kind: str, day: float) -> dict[str, object]:
    return {
        "type": "transaction",
        "event_id": f"{customer}-p{n}",
        "customer_id": customer,
        "occurred_at": (T0 + timedelta(days=day)).isoformat(),
        "account_id": f"{customer}-A",
        "kind": kind,
        "amount": "12.00",
        "currency": "EUR",
        "channel": "web",
    }


def test_active_days_count_once_and_passive_postings_not_at_all(tmp_path: Path) -> None:
    rows: list[object] = [
        login("A", 1, T0 + timedelta(hours=10)),
        login("A", 2, T0 + timedelta(hours=15)),  # the same day
        posting("A", 1, "fee", 2),  # the bank's, not the customer's
        login("A", 3, T0 + timedelta(days=3, hours=9)),
        "{not json",
        posting("B", 1, "salary_credit", 4),
        login("A", 4, T0 + timedelta(days=10, hours=9)),
        posting("B", 2, "interest", 12),
    ]
    found = activity([write(tmp_path / "interactions.jsonl", rows)], pipeline_config(Settings()))
    day0 = int(T0.timestamp()) // 86_400
    assert [d - day0 for d in found.days["A"]] == [0, 3, 10]
    assert found.days["B"] == []  # known, never active
    assert (found.events, found.skipped, found.first_day - day0, found.last_day - day0) == (7, 1, 0, 12)


def test_files_without_activity_cannot_be_fitted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "transactions.jsonl", [posting("B", 1, "salary_credit", 1), posting("B", 2, "fee", 2)]
    )
    found = activity([path], pipeline_config(Settings()))
    with pytest.raises(ValueError, match="no customer activity"):
        fit_bgnbd(found, found.last_day)


def test_simulated_traffic_fits_sane_parameters_and_skips_exactly_the_broken_lines(tmp_path: Path) -> None:
    scenario = Scenario(customers=80, days=150, seed=5, start=T0 - timedelta(days=400), invalid_ratio=0.01)
    events = list(generate(scenario))
    write_jsonl(events, tmp_path, include_invalid=True)
    broken = sum(not e.valid for e in events)
    assert broken > 0
    found = activity(sorted(tmp_path.glob("*.jsonl")), pipeline_config(Settings()))
    assert (found.events, found.skipped) == (len(events) - broken, broken)
    params = fit_bgnbd(found, found.last_day)
    assert params.customers == sum(1 for days in found.days.values() if days)
    assert len(found.days) == scenario.customers and params.customers > scenario.customers // 2
    assert params.customers > scenario.customers // 2
    for value in (params.r, params.alpha, params.a, params.b):
        assert math.isfinite(value) and value > 0
    assert params.log_likelihood is not None and math.isfinite(params.log_likelihood)
    assert params.log_likelihood < 0


# -- the churn probability -------------------------------------------------------------------

OPTIONS = FitOptions()


def test_a_customer_silent_after_the_split_is_lost_and_one_active_as_usual_is_not() -> None:
    daily = list(range(0, 200))
    assert is_lost(daily, 100, 200, 1.0, OPTIONS) is False
    stopped = list(range(0, 101))
    assert is_lost(stopped, 100, 200, 1.0, OPTIONS) is True
    fading = [*range(0, 101), 130, 160]  # 2 active days where 90 were usual: under a fifth
    assert is_lost(fading, 100, 200, 1.0, OPTIONS) is True
    assert is_lost([150], 100, 200, 1.0, OPTIONS) is None  # not a customer yet on day 100


def test_a_rare_customer_is_lost_only_when_not_active_at_all_in_the_horizon() -> None:
    quarterly = [0, 90, 180]
    assert is_lost(quarterly, 100, 300, 90.0, OPTIONS) is False  # day 180 is within 90 days of 100
    assert is_lost([0, 90], 100, 300, 90.0, OPTIONS) is True


def test_a_short_window_after_the_split_is_judged_only_when_long_enough_for_the_customer() -> None:
    daily_then_quiet = list(range(0, 101))
    # 40 of the 90 days seen: long enough for a daily customer, not for one with 60-day gaps
    assert is_lost(daily_then_quiet, 100, 140, 1.0, OPTIONS) is True
    assert is_lost([0, 60], 100, 140, 60.0, OPTIONS) is None
    assert is_lost(daily_then_quiet, 100, 120, 1.0, OPTIONS) is None  # under min_window_days
    # active enough already in the part seen: kept, whatever comes after
    assert is_lost([*range(0, 101), *range(101, 140)], 100, 140, 1.0, OPTIONS) is False


def test_splits_start_after_the_warm_up_and_the_evaluation_split_sees_a_full_horizon() -> None:
    splits, eval_day = split_days(0, 179, OPTIONS)
    assert splits[0] == OPTIONS.warmup_days and splits[-1] <= 179 - OPTIONS.min_window_days
    assert eval_day == 179 - OPTIONS.horizon_days and eval_day in splits
    _, none = split_days(0, 120, OPTIONS)
    assert none is None
    with pytest.raises(ValueError, match="needs at least 75"):
        split_days(0, 50, OPTIONS)


def test_the_fitted_probability_ranks_lost_simulated_customers_above_kept_ones(tmp_path: Path) -> None:
    scenario = Scenario(customers=300, days=180, seed=13, start=T0)
    write_jsonl(list(generate(scenario)), tmp_path)
    settings = Settings()
    files = sorted(tmp_path.glob("*.jsonl"))
    ruleset = load_ruleset([settings.rules_dir])
    fitted = fit_probability(files, pipeline_config(settings), store_config(settings), ruleset)
    probability = fitted.model.probability
    assert probability is not None and probability.horizon_days == 90
    assert set(probability.features) == set(FEATURE_NAMES)
    assert probability.quality is not None and probability.quality.auroc is not None
    assert probability.quality.auroc > 0.6  # judged on a split the model never saw
    assert all(weight >= 0 for weight in probability.rules.values())
    saved = tmp_path / "model.json"
    fitted.model.save(saved)
    model = BgNbdParams.load(saved)
    assert model.probability == probability
    truth = ground_truth(scenario)
    end = epoch_day((T0 + timedelta(days=scenario.days - 1)).date())
    ((_, customers),) = list(
        as_of(files, pipeline_config(settings), store_config(settings), ruleset, [end], model, True)
    )
    labels = [truth[c.customer_id]["lost_on"] is not None for c in customers]
    scores = [c.evaluation.score for c in customers]
    assert roc_auc_score(labels, scores) > 0.85
