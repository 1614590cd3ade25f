"""One customer's events: bank-like ids and amounts, master data first, running balances, postings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from schemas.inputs import INFLOW_KINDS, Customer
from streams.sim.personas import (
    CARD_DAILY,
    NEW,
    OCCASIONAL,
    PAUSER,
    plan_customers,
)
from streams.sim.truth import GroundTruth
from tests.unit.streams.sim.traffic import (
    END,
    SCENARIO,
    START,
    of_kind,
    play,
    transactions_in,
)


def test_ids_and_amounts_look_like_a_bank(parsed: dict[str, list[Any]]) -> None:
    for cid, models in parsed.items():
        assert cid.startswith("C") and len(cid) == 7 and cid[1:].isdigit()
        for tx in transactions_in(models):
            assert tx.account_id in {f"A{cid[1:]}-1", f"A{cid[1:]}-2"}
            assert tx.currency == "EUR"
            assert tx.amount > 0
            assert tx.amount == tx.amount.quantize(Decimal("0.01"))
            assert tx.balance_after is not None


def test_each_customer_starts_with_master_data(
    parsed: dict[str, list[Any]], truth: dict[str, GroundTruth]
) -> None:
    assert len(parsed) == SCENARIO.customers
    consent = 0
    for cid, models in parsed.items():
        first = models[0]
        assert isinstance(first, Customer)
        assert first.opened_at is not None
        if truth[cid]["persona"] == NEW:  # master data arrives when the account is opened
            assert START < first.opened_at == first.occurred_at < END
        else:
            assert first.occurred_at == START
            assert first.opened_at < START
        assert first.birth_date is not None and first.birth_date < date(2007, 1, 1)
        assert not any(isinstance(m, Customer) for m in models[1:])
        consent += first.marketing_consent
    assert 0.55 < consent / len(parsed) < 0.85
    households = [m[0].household_id for m in parsed.values() if m[0].household_id]
    assert 0 < len(set(households)) < len(households)  # some households have several members


def test_balance_after_is_a_running_balance(parsed: dict[str, list[Any]]) -> None:
    for models in parsed.values():
        last: dict[str, Decimal] = {}
        for tx in transactions_in(models):
            assert tx.balance_after is not None
            if tx.account_id in last:
                sign = 1 if tx.kind in INFLOW_KINDS else -1
                assert tx.balance_after == last[tx.account_id] + sign * tx.amount, tx
            last[tx.account_id] = tx.balance_after


def test_fees_and_month_end_postings(truth: dict[str, GroundTruth], parsed: dict[str, list[Any]]) -> None:
    fees = [t for models in parsed.values() for t in of_kind(models, "fee")]
    assert len({t.customer_id for t in fees}) > 0.5 * len(parsed)
    assert any(t.amount > 20 for t in fees)  # annual card fees next to small monthly ones
    interest = [t for models in parsed.values() for t in of_kind(models, "interest")]
    assert interest and all(t.account_id.endswith("-2") for t in interest)


def test_a_customer_played_alone_has_the_events_of_the_stream(parsed: dict[str, list[Any]]) -> None:
    """What the persona tests rely on when they play chosen customers of a wider population."""
    plans = [plan for plan in plan_customers(SCENARIO) if plan.index % 9 == 0]
    assert {plan.persona for plan in plans} >= {NEW, OCCASIONAL, CARD_DAILY, PAUSER}
    for cid, models in play(SCENARIO, plans).items():
        assert models == parsed[cid]
