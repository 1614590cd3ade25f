"""Seasonality: weekends, December, summer travel, paydays and the Christmas bonus."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from schemas.catalog import TRANSACTIONS
from schemas.inputs import Transaction
from streams.sim.generator import generate
from streams.sim.scenario import Scenario

SEASONS = Scenario(customers=90, days=214, seed=3, start=datetime(2024, 6, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def seasons() -> list[Transaction]:
    """June to December, card payments and salaries only (validated)."""
    return [
        tx
        for e in generate(SEASONS)
        if e.topic == TRANSACTIONS
        for tx in [Transaction.model_validate_json(e.value)]
        if tx.kind in ("card_payment", "salary_credit")
    ]


def test_card_spend_peaks_on_weekends_in_december_and_travel_in_summer(seasons: list[Transaction]) -> None:
    spend: dict[date, Decimal] = defaultdict(Decimal)
    travel: dict[int, int] = defaultdict(int)
    count: dict[int, int] = defaultdict(int)
    for tx in seasons:
        if tx.kind == "card_payment":
            spend[tx.occurred_at.date()] += tx.amount
            count[tx.occurred_at.month] += 1
            travel[tx.occurred_at.month] += tx.merchant_category in ("7011", "4511", "4722")

    def daily(days: list[date]) -> Decimal:
        return sum((spend[d] for d in days), Decimal(0)) / len(days)

    every = [SEASONS.start.date() + timedelta(days=d) for d in range(SEASONS.days)]  # type: ignore[union-attr]
    weekend = [d for d in every if d.weekday() == 5]
    weekdays = [d for d in every if d.weekday() < 4]
    assert daily(weekend) > Decimal("1.2") * daily(weekdays)
    october_november = [d for d in every if d.month in (10, 11)]
    before_christmas = [d for d in every if d.month == 12 and 10 <= d.day <= 23]
    assert daily(before_christmas) > Decimal("1.3") * daily(october_november)
    summer = (travel[7] + travel[8]) / (count[7] + count[8])
    assert summer > 2 * (travel[10] + travel[11]) / (count[10] + count[11])


def test_salary_day_spend_bump_and_christmas_bonus(seasons: list[Transaction]) -> None:
    salaries = [t for t in seasons if t.kind == "salary_credit"]
    by_customer: dict[str, list[Transaction]] = defaultdict(list)
    for t in salaries:
        by_customer[t.customer_id].append(t)
    bonus = 0
    for paid in by_customer.values():
        usual = sorted(t.amount for t in paid)[len(paid) // 2]
        bonus += any(t.amount > Decimal("1.3") * usual and t.occurred_at.month in (11, 12) for t in paid)
    assert 0.1 * len(by_customer) < bonus < 0.6 * len(by_customer)
