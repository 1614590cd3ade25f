"""Fitting the churn model on event files: per-customer active days as the worker counts them (same
day once, passive postings not at all), lines the worker would dead-letter skipped, and parameters
recovered from a known model and sane on simulated traffic."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from streams.backtest.churn_fit import fit_files, histories
from streams.config import pipeline_config
from streams.settings import Settings
from streams.sim.generator import generate
from streams.sim.jsonl import write_jsonl
from streams.sim.scenario import Scenario
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
    result = fit_files([write(tmp_path / "interactions.jsonl", rows)], pipeline_config(Settings()))
    assert result.events == len(rows) and result.skipped == 0
    # same-day repeats collapse to one active day, so allow a looser fit than the continuous one
    assert abs(result.params.r - TRUE.r) / TRUE.r < 0.35
    assert abs(result.params.a - TRUE.a) / TRUE.a < 0.5


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
    found, events, skipped, end_day = histories(
        [write(tmp_path / "interactions.jsonl", rows)], pipeline_config(Settings())
    )
    day0 = int(T0.timestamp()) // 86_400
    a = found["A"]
    assert (a.first - day0, a.last - day0, a.repeat) == (0, 10, 2)
    assert found["B"].first < 0  # known, never active
    assert (events, skipped, end_day - day0) == (7, 1, 12)


def test_files_without_activity_cannot_be_fitted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "transactions.jsonl", [posting("B", 1, "salary_credit", 1), posting("B", 2, "fee", 2)]
    )
    with pytest.raises(ValueError, match="no customer activity"):
        fit_files([path], pipeline_config(Settings()))


def test_simulated_traffic_fits_sane_parameters_and_skips_exactly_the_broken_lines(tmp_path: Path) -> None:
    scenario = Scenario(customers=80, days=150, seed=5, start=T0 - timedelta(days=400), invalid_ratio=0.01)
    events = list(generate(scenario))
    write_jsonl(events, tmp_path, include_invalid=True)
    broken = sum(not e.valid for e in events)
    assert broken > 0
    result = fit_files(sorted(tmp_path.glob("*.jsonl")), pipeline_config(Settings()))
    assert (result.events, result.skipped) == (len(events) - broken, broken)
    params = result.params
    assert params.customers + result.customers_without_activity == scenario.customers
    assert params.customers > scenario.customers // 2
    for value in (params.r, params.alpha, params.a, params.b):
        assert math.isfinite(value) and value > 0
    assert params.log_likelihood is not None and math.isfinite(params.log_likelihood)
    assert params.log_likelihood < 0
