"""The personas' stories, as seen in the events they produce."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from schemas.inputs import Customer, Interaction
from schemas.profile.delta import is_customer_activity, is_failed_login
from streams.sim.banks import COMPETITOR_BANKS, HOME_BANK
from streams.sim.personas import (
    AFFLUENT,
    CARD,
    CARD_DAILY,
    COMPLAINER,
    DORMANT,
    DRIFTING,
    LOGIN,
    LOYAL,
    NEW,
    OCCASIONAL,
    PAUSER,
    TRANSFER,
    YOUNG,
    Plan,
    plan_customers,
)
from streams.sim.rhythms import GAP_CLIP, MONTHLY_GAP, QUARTERLY_GAP
from streams.sim.truth import GroundTruth, ground_truth
from tests.unit.streams.sim.traffic import (
    END,
    START,
    WIDE,
    active_days,
    customers_of,
    interactions_in,
    is_fraud,
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


# ----------------------------------------------------------------- rhythm personas

_POSTING_KINDS = frozenset({"fee", "interest"})
_CHANNEL_KINDS = {
    CARD: {"card_payment"},
    LOGIN: {"login"},
    TRANSFER: {"transfer_in", "transfer_out"},
}


def _gaps(days: list[int]) -> list[int]:
    return [b - a for a, b in itertools.pairwise(days)]


def _kinds(models: list[Any]) -> set[str]:
    """Kinds of the transactions and interactions (master data has none)."""
    return {m.kind for m in models if not isinstance(m, Customer)}


def _own_kinds(models: list[Any]) -> set[str]:
    return _kinds([m for m in models if is_customer_activity(m)])


def _failed_login(model: Any) -> bool:
    return isinstance(model, Interaction) and is_failed_login(model)


def test_occasional_customers_act_only_on_their_own_irregular_days() -> None:
    plans = plans_of(WIDE, OCCASIONAL, 80)
    played = play(WIDE, plans)
    monthly_gaps: list[int] = []
    long_quiet_stayers = quarterly = 0
    for plan in plans:
        models = played[plan.customer_id]
        days = active_days(models)
        assert days == list(plan.rhythm_days), plan.customer_id  # every active day has its events
        others = _kinds(
            [m for m in models if not is_customer_activity(m) and not _failed_login(m)]
        )  # a failed login (a typo, a fraudster's try) is no activity, and no posting either
        assert others <= _POSTING_KINDS, plan.customer_id  # no salary, nothing in between
        assert not of_kind(models, "salary_credit")
        normal = days if plan.signal_day is None else [d for d in days if d < plan.signal_day]
        is_quarterly = QUARTERLY_GAP[0] <= plan.mean_gap <= QUARTERLY_GAP[1]
        assert is_quarterly or MONTHLY_GAP[0] <= plan.mean_gap <= MONTHLY_GAP[1]
        quarterly += is_quarterly
        for gap in _gaps(normal):
            assert round(GAP_CLIP[0] * plan.mean_gap) <= gap <= round(GAP_CLIP[1] * plan.mean_gap)
        if not is_quarterly:
            monthly_gaps += _gaps(normal)
            long_quiet_stayers += plan.lost_day is None and max(_gaps(days), default=0) >= 30
    assert 14 <= statistics.median(monthly_gaps) <= 42
    assert long_quiet_stayers >= 5  # a month of silence is normal for them, not a churn sign
    assert 0.15 * len(plans) < quarterly < 0.6 * len(plans)


def test_lost_occasional_customers_stretch_their_rhythm_then_stop() -> None:
    plans = [plan for plan in plans_of(WIDE, OCCASIONAL, 400) if plan.lost_day is not None][:30]
    assert len(plans) >= 20
    wide_truth = ground_truth(WIDE)
    for cid, models in play(WIDE, plans).items():
        facts = wide_truth[cid]
        signal, lost = facts["signal_on"], facts["lost_on"]
        assert signal is not None and lost is not None and signal <= lost
        days = active_days(models)
        assert START.date() + timedelta(days=days[-1]) == lost  # their last active day
        last_normal = days.index((signal - START.date()).days - 1)
        assert last_normal >= 2
        normal_gaps = _gaps(days[: last_normal + 1])
        stretched = _gaps(days[last_normal:])
        assert stretched and min(stretched) > statistics.median(normal_gaps), cid
        after = [m for m in models if m.occurred_at.date() > lost]
        assert _kinds(after) <= _POSTING_KINDS, cid


def test_card_daily_customers_are_active_most_days_and_the_lost_stop_within_weeks() -> None:
    plans = plans_of(WIDE, CARD_DAILY, 60)
    played = play(WIDE, plans)
    shares = []
    for plan in plans:
        models = played[plan.customer_id]
        days = active_days(models)
        if plan.lost_day is None:
            shares.append(len(days) / WIDE.days)
            assert max(_gaps(days)) <= 14, plan.customer_id  # a quiet week already means something
            continue
        assert plan.signal_day is not None and plan.lost_day - plan.signal_day <= 21
        before = [d for d in days if d < plan.signal_day]
        assert len(before) > 0.5 * plan.signal_day
        assert days[-1] <= plan.lost_day, plan.customer_id
        after = [m for m in models[1:] if (m.occurred_at - START).days > plan.lost_day]
        assert _kinds(after) <= _POSTING_KINDS, plan.customer_id
    assert statistics.median(shares) > 0.75
    assert 0.15 * len(plans) < len(plans) - len(shares) < 0.5 * len(plans)


def test_single_channel_customers_use_only_their_channel() -> None:
    plans = [plan for persona in (OCCASIONAL, CARD_DAILY, PAUSER) for plan in plans_of(WIDE, persona, 150)]
    variants = {(plan.persona, plan.only) for plan in plans}
    assert variants >= {(OCCASIONAL, only) for only in (CARD, LOGIN, TRANSFER, None)}
    assert variants >= {(persona, only) for persona in (CARD_DAILY, PAUSER) for only in (CARD, LOGIN, None)}
    chosen = [
        next(p for p in plans if (p.persona, p.only) == variant) for variant in sorted(variants, key=str)
    ]
    chosen += [p for p in plans if p.only is not None][:40]
    for plan in chosen:
        if plan.persona == OCCASIONAL and not plan.rhythm_days:
            continue  # a quarterly customer may have no active day in four months
        kinds = _own_kinds(play(WIDE, [plan])[plan.customer_id])
        if plan.only is None:
            assert len(kinds) >= 2, (plan.customer_id, kinds)
        else:
            assert kinds and kinds <= _CHANNEL_KINDS[plan.only], (plan.customer_id, kinds)


def test_pausers_go_completely_quiet_then_come_back_and_are_not_lost(
    truth: dict[str, GroundTruth], plans: dict[str, Plan]
) -> None:
    assert all(truth[cid]["lost_on"] is None for cid in customers_of(truth, PAUSER))
    pausers = plans_of(WIDE, PAUSER, 40)
    noisy = [p for p in plan_customers(WIDE) if p.pause is not None and p.persona in (LOYAL, AFFLUENT, YOUNG)]
    assert {p.persona for p in noisy} >= {LOYAL, YOUNG}
    assert len(noisy) < 0.05 * sum(p.persona in (LOYAL, AFFLUENT, YOUNG) for p in plan_customers(WIDE))
    wide_truth = ground_truth(WIDE)
    lengths = []
    for plan in pausers + noisy[:20]:
        assert plan.pause is not None and plan.lost_day is None
        assert wide_truth[plan.customer_id]["lost_on"] is None
        begin, end = plan.pause
        lengths.append(end - begin)
        models = play(WIDE, [plan])[plan.customer_id]
        inside = [m for m in models[1:] if begin <= (m.occurred_at - START).days < end and not is_fraud(m)]
        assert _kinds(inside) <= _POSTING_KINDS, plan.customer_id  # only the bank books
        days = active_days(models)
        before = [d for d in days if d < begin]
        after = [d for d in days if d >= end]
        assert end in days and before, plan.customer_id
        rate_before, rate_after = len(before) / begin, len(after) / (WIDE.days - end)
        assert rate_after > 0.3 * rate_before, plan.customer_id  # back to their rhythm
    assert min(lengths) <= 45 and max(lengths) >= 75
