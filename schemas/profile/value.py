"""Customer value score: what a customer is worth to the bank now and could be worth, 0-100.

Three parts, each capped so no single figure dominates (documented in docs/offers.md):

- contribution (0-50): 30 x average total balance (all accounts) over 90 days / 100,000 + 20 x
  monthly inflow / 8,000;
- loyalty (0-30): 10 x tenure / 10 years + 10 x products / 5 + 10 when a salary is domiciled
  (two or more salary credits in 90 days);
- potential (0-20): 10 for age 25-45 (6 for 46-60, 3 for 18-24) + 10 x monthly salary / 6,000.

Linear, capped and deterministic, so tier and offer rules can use it with thresholds people can
reason about; the caps are where more money stops making a customer more valuable to keep.
"""

from __future__ import annotations

from typing import Any


def _share(value: float, full: float) -> float:
    return min(1.0, max(0.0, value / full))


def _age_points(age: int) -> float:
    if 25 <= age <= 45:
        return 10.0
    if 46 <= age <= 60:
        return 6.0
    if 18 <= age <= 24:
        return 3.0
    return 0.0


def add_value_score(profile: dict[str, Any]) -> None:
    """Set ``value_score`` and its three parts from fields already in ``profile``."""
    contribution = 30 * _share(profile["balance_avg_90d"], 100_000) + 20 * _share(
        profile["inflow_90d"] / 3, 8_000
    )
    tenure = profile["tenure_days"]
    loyalty = (
        10 * _share(tenure if tenure > 0 else 0, 3650)
        + 10 * _share(profile["product_count"], 5)
        + (10.0 if profile["salary_count_90d"] >= 2 else 0.0)
    )
    potential = _age_points(profile["age_years"]) + 10 * _share(profile["salary_amount_90d"] / 3, 6_000)
    profile["value_contribution"] = round(contribution, 2)
    profile["value_loyalty"] = round(loyalty, 2)
    profile["value_potential"] = round(potential, 2)
    profile["value_score"] = round(contribution + loyalty + potential, 2)
