"""The customer value score: 0-100 from three capped parts (contribution, loyalty, potential)."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.profile.value import add_value_score


def scored(**fields: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "balance_avg_90d": 0.0,
        "inflow_90d": 0.0,
        "tenure_days": -1,
        "product_count": 0,
        "salary_count_90d": 0,
        "age_years": -1,
        "salary_amount_90d": 0.0,
    }
    profile.update(fields)
    add_value_score(profile)
    return profile


def parts(profile: dict[str, Any]) -> tuple[float, float, float, float]:
    return (
        profile["value_contribution"],
        profile["value_loyalty"],
        profile["value_potential"],
        profile["value_score"],
    )


def test_nothing_known_scores_zero_and_everything_at_its_cap_scores_100() -> None:
    assert parts(scored()) == (0.0, 0.0, 0.0, 0.0)
    top = scored(
        balance_avg_90d=100_000.0,
        inflow_90d=24_000.0,
        tenure_days=3650,
        product_count=5,
        salary_count_90d=2,
        age_years=30,
        salary_amount_90d=18_000.0,
    )
    assert parts(top) == (50.0, 30.0, 20.0, 100.0)


def test_caps_and_floors_keep_each_part_in_its_range() -> None:
    huge = scored(
        balance_avg_90d=1e9,
        inflow_90d=1e9,
        tenure_days=100_000,
        product_count=40,
        salary_count_90d=12,
        age_years=40,
        salary_amount_90d=1e9,
    )
    assert parts(huge) == (50.0, 30.0, 20.0, 100.0)
    negative = scored(balance_avg_90d=-5_000.0, tenure_days=-1)
    assert parts(negative) == (0.0, 0.0, 0.0, 0.0)


def test_each_part_is_linear_up_to_its_cap() -> None:
    # 30 x 25,000 / 100,000 + 20 x (12,000 / 3) / 8,000
    assert scored(balance_avg_90d=25_000.0, inflow_90d=12_000.0)["value_contribution"] == 17.5
    # 10 x 1825 / 3650 + 10 x 2 / 5; one salary is not a domiciled salary
    assert scored(tenure_days=1825, product_count=2, salary_count_90d=1)["value_loyalty"] == 9.0
    assert scored(salary_count_90d=2)["value_loyalty"] == 10.0
    # 10 x (9,000 / 3) / 6,000
    assert scored(salary_amount_90d=9_000.0)["value_potential"] == 5.0


@pytest.mark.parametrize(
    ("age", "points"),
    [(-1, 0.0), (17, 0.0), (18, 3.0), (24, 3.0), (25, 10.0), (45, 10.0), (46, 6.0), (60, 6.0), (61, 0.0)],
)
def test_age_points(age: int, points: float) -> None:
    assert scored(age_years=age)["value_potential"] == points


def test_the_score_is_the_sum_of_its_parts_to_the_cent() -> None:
    profile = scored(
        balance_avg_90d=12_345.67,
        inflow_90d=7_777.77,
        tenure_days=999,
        product_count=3,
        salary_count_90d=3,
        age_years=50,
        salary_amount_90d=4_321.0,
    )
    contribution, loyalty, potential, score = parts(profile)
    assert all(round(v, 2) == v for v in (contribution, loyalty, potential, score))
    assert abs(score - (contribution + loyalty + potential)) <= 0.015
    assert 0 < score < 100
