"""The personas' stories, as seen in the events they produce."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from schemas.inputs import Customer
from streams.sim.banks import COMPETITOR_BANKS, HOME_BANK
from streams.sim.personas import (
    AFFLUENT,
    COMPLAINER,
    DORMANT,
    DRIFTING,
    LOYAL,
    NEW,
    YOUNG,
    Plan,
)
from streams.sim.truth import GroundTruth, ground_truth
from tests.unit.streams.sim.traffic import (
    END,
    START,
    WIDE,
    customers_of,
    interactions_in,
    of_kind,
    plans_of,
    play,
    transactions_in,
)


def _day(truth: dict[str, GroundTruth], cid: str, field: str) -> datetime:
    value = truth[cid][field]  # type: ignore[literal-required]
    assert isinstance(value, date)
    return datetime.combine(value, datetime.min.time(), UTC)


def _per_day(models: list[Any], kind: str, since: datetime, until: datetime) -> float:
    days = max(1, (until - since).days)
    count: int = sum(since <= m.occurred_at < until for m in of_kind(models, kind))
    return count / days


def test_loyal_customers_are_paid_monthly_mostly_on_the_last_business_day(
    truth: dict[str, GroundTruth], parsed: dict[str, list[Any]], plans: dict[str, Plan]
) -> None:
    full_months = {(2025, 1), (2025, 2), (2025, 3), (2025, 4)}  # 2025-01-01 + 120 days = 2025-05-01
    loyal = [cid for cid in customers_of(truth, LOYAL) if plans[cid].pause is None]  # pausers: unpaid
    assert len(loyal) > 60
    every_month = last_business_day = paid = 0
    payers: dict[str, set[str | None]] = {}
    for cid in loyal:
        salaries = of_kind(parsed[cid], "salary_credit")
        months = {(t.occurred_at.year, t.occurred_at.month) for t in salaries}
        every_month += months == full_months and len(salaries) == 4
        assert len(months) >= 2, cid  # an employer change costs at most a month or two
        payers[cid] = {t.counterparty_bank for t in salaries}
        for t in salaries:
            paid += 1
            day = t.occurred_at.date()
            following = day + timedelta(days=1)
            while following.weekday() >= 5:
                following += timedelta(days=1)
            last_business_day += following.month != day.month
        assert len(of_kind(parsed[cid], "login")) >= 1
    assert every_month > 0.85 * len(loyal)
    assert 0.5 < last_business_day / paid < 0.75  # the others: a fixed day or the first business day
    assert any(len(banks) == 2 for banks in payers.values())  # somebody changed employer
    amounts = sorted(t.amount for cid in loyal for t in of_kind(parsed[cid], "salary_credit"))
    assert Decimal(1800) < amounts[len(amounts) // 2] < Decimal(4000)
    assert len(set(amounts)) > len(amounts) * 0.9  # drawn, not constant
    logins = sorted(len(of_kind(parsed[cid], "login")) for cid in loyal)
    assert 20 < logins[len(logins) // 2] < 150
    assert logins[0] < 20 < 80 < logins[-1]  # per-customer rates differ a lot


def test_drifting_customers_move_salary_and_balance_away_then_fall_silent(
    truth: dict[str, GroundTruth], parsed: dict[str, list[Any]], plans: dict[str, Plan]
) -> None:
    drifting = customers_of(truth, DRIFTING)
    assert len(drifting) >= 10
    before: dict[str, float] = defaultdict(float)
    after: dict[str, float] = defaultdict(float)
    durations = []
    for cid in drifting:
        signal, lost = _day(truth, cid, "signal_on"), _day(truth, cid, "lost_on")
        durations.append((lost - signal).days)
        stray = {START.date() + timedelta(days=d) for d in plans[cid].tail_login_days}
        models = [
            m for m in parsed[cid] if getattr(m, "kind", None) != "login" or m.occurred_at.date() not in stray
        ]
        txs = transactions_in(models)
        assert all(t.occurred_at < lost for t in of_kind(models, "salary_credit")), cid
        exits = [t for t in txs if t.kind == "transfer_out" and t.counterparty_bank in COMPETITOR_BANKS]
        moved = sum((t.amount for t in exits if t.occurred_at >= signal), Decimal(0))
        assert moved > 5 * sum((t.amount for t in exits if t.occurred_at < signal), Decimal(0)), cid
        biggest = max(exits, key=lambda t: t.amount)  # peer transfers are small
        assert signal <= biggest.occurred_at < lost + timedelta(days=1), cid
        current = [t.balance_after for t in txs if t.account_id.endswith("-1")]
        assert current[-1] is not None and current[-1] < max(b for b in current if b) * Decimal("0.2"), cid
        for kind in ("login", "card_payment"):
            before[kind] += _per_day(models, kind, START, signal)
            if (END - lost).days >= 10:
                after[kind] += _per_day(models, kind, lost + timedelta(days=1), END)
    for kind in ("login", "card_payment"):
        assert after[kind] < 0.15 * before[kind], kind
    assert min(durations) < 21 and max(durations) > 45  # fast and slow drifters


def test_some_drifting_customers_repay_their_loan_early_before_leaving(
    truth: dict[str, GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    early = 0
    drifting = plans_of(WIDE, DRIFTING, 60)
    wide_truth = ground_truth(WIDE)
    for cid, models in play(WIDE, drifting).items():
        repayments = of_kind(models, "loan_repayment")
        if repayments and max(r.amount for r in repayments) > 4 * min(r.amount for r in repayments):
            payoff = max(repayments, key=lambda r: r.amount)
            assert payoff.occurred_at < _day(wide_truth, cid, "lost_on") + timedelta(days=1)
            assert not [r for r in repayments if r.occurred_at > payoff.occurred_at]
            early += 1
    assert early >= 1
    monthly = [cid for cid in customers_of(truth, LOYAL) if len(of_kind(parsed[cid], "loan_repayment")) >= 4]
    assert 0.1 * len(customers_of(truth, LOYAL)) < len(monthly) < 0.45 * len(customers_of(truth, LOYAL))


def test_complainers_are_left_unanswered_score_low_and_leave(
    truth: dict[str, GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    complainers = customers_of(truth, COMPLAINER)
    assert complainers
    unhappy = 0
    for cid in complainers:
        interactions = interactions_in(parsed[cid])
        opened = of_kind(interactions, "complaint_opened")
        assert opened and opened[0].occurred_at.date() == truth[cid]["signal_on"]
        assert all(i.reference is not None and i.reference.startswith("CMP-") for i in opened)
        lost = _day(truth, cid, "lost_on")
        assert not [i for i in of_kind(interactions, "complaint_resolved") if i.occurred_at < lost]
        scores = [
            i.score
            for i in of_kind(interactions, "survey_response")
            if i.occurred_at >= opened[0].occurred_at
        ]
        assert all(s is not None and s <= 4 for s in scores)
        unhappy += bool(scores)
        assert _per_day(parsed[cid], "card_payment", lost + timedelta(days=1), END) < 0.3
    assert unhappy >= len(complainers) // 2
    references = [i.reference for models in parsed.values() for i in of_kind(models, "complaint_opened")]
    assert len(references) == len(set(references))


def test_customers_who_stay_include_resolved_complaints_and_big_one_off_payments(
    truth: dict[str, GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    stayers = [cid for cid, facts in truth.items() if facts["lost_on"] is None]
    resolved = [cid for cid in stayers if of_kind(parsed[cid], "complaint_resolved")]
    assert resolved
    for cid in resolved:
        opened = {i.reference: i.occurred_at for i in of_kind(parsed[cid], "complaint_opened")}
        for done in of_kind(parsed[cid], "complaint_resolved"):
            assert opened[done.reference] < done.occurred_at
    big = [
        cid
        for cid in stayers
        for t in of_kind(parsed[cid], "transfer_out")
        if t.amount >= 5000 and t.counterparty_bank not in (None, HOME_BANK)
    ]
    assert big
    assert all(truth[cid]["persona"] in (LOYAL, AFFLUENT) for cid in big)
    updates = [cid for cid in parsed if of_kind(parsed[cid], "contact_update")]
    assert 0.05 * len(parsed) < len(updates) < 0.6 * len(parsed)


def test_young_digital_customers_are_mobile_busy_and_small_spenders(
    truth: dict[str, GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    young = customers_of(truth, YOUNG)
    assert len(young) >= 10
    loyal = customers_of(truth, LOYAL)

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    mobile = [i.channel == "mobile" for cid in young for i in of_kind(parsed[cid], "login")]
    assert sum(mobile) / len(mobile) > 0.9
    logins = median([len(of_kind(parsed[cid], "login")) for cid in young])
    assert logins > 2 * median([len(of_kind(parsed[cid], "login")) for cid in loyal])
    cards = median([len(of_kind(parsed[cid], "card_payment")) for cid in young])
    assert cards > 1.3 * median([len(of_kind(parsed[cid], "card_payment")) for cid in loyal])
    amounts = [float(t.amount) for cid in young for t in of_kind(parsed[cid], "card_payment")]
    assert median(amounts) < 15
    for cid in young:
        assert parsed[cid][0].birth_date > (START - timedelta(days=30 * 366)).date()
        assert not [i for i in of_kind(parsed[cid], "branch_visit")]
        pay = [t.amount for t in of_kind(parsed[cid], "salary_credit")]
        assert len(pay) <= 5 and all(p < 5000 for p in pay)  # small and irregular, if any


def test_new_customers_open_inside_the_scenario_with_an_onboarding_burst(
    truth: dict[str, GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    new = customers_of(truth, NEW)
    assert len(new) >= 5
    switched = 0
    for cid in new:
        first = parsed[cid][0]
        assert isinstance(first, Customer) and first.opened_at is not None
        opened = first.opened_at
        assert all(m.occurred_at >= opened for m in parsed[cid])
        products = [
            i.product
            for i in of_kind(parsed[cid], "product_opened")
            if i.occurred_at < opened + timedelta(days=5)
        ]
        assert "CURRENT_ACCOUNT" in products and "DEBIT_CARD" in products
        assert _per_day(parsed[cid], "login", opened, opened + timedelta(days=1)) >= 2
        salaries = of_kind(parsed[cid], "salary_credit")
        assert all(t.occurred_at > opened + timedelta(days=20) for t in salaries)
        switched += bool(salaries)
    assert 0 < switched < len(new)


def test_dormant_and_affluent_customers_look_their_part(
    truth: dict[str, GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    for cid in customers_of(truth, DORMANT):
        if truth[cid]["lost_on"] is None:  # dormant from the start: a handful of doings at most
            own = [m for m in parsed[cid][1:] if m.kind not in ("fee", "interest", "salary_credit")]
            assert len(own) < 25, cid
    affluent = customers_of(truth, AFFLUENT)
    assert affluent
    for cid in affluent:
        assert parsed[cid][0].segment == "private"
        assert of_kind(parsed[cid], "investment_buy")
    logins = [i.channel for cid in affluent for i in of_kind(parsed[cid], "login")]
    assert logins.count("web") > logins.count("mobile") * 0.6
