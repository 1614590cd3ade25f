"""The traffic simulator: deterministic, contract-conformant and telling the personas' stories."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.catalog import CUSTOMERS, INPUT_MODELS, INPUT_TOPICS, INTERACTIONS, TRANSACTIONS
from schemas.inputs import INFLOW_KINDS, Customer, Interaction, Transaction
from streams.sim import simulator
from streams.sim.simulator import (
    AFFLUENT,
    COMPETITOR_BANKS,
    COMPLAINER,
    DORMANT,
    DRIFTING,
    HOME_BANK,
    LOYAL,
    NEW,
    PERSONA_WEIGHTS,
    PERSONAS,
    YOUNG,
    ProduceError,
    Scenario,
    SimEvent,
    generate,
    ground_truth,
    produce,
    write_jsonl,
)

START = datetime(2025, 1, 1, tzinfo=UTC)
SCENARIO = Scenario(customers=200, days=120, seed=7, start=START)
END = START + timedelta(days=SCENARIO.days)


@pytest.fixture(scope="module")
def events() -> list[SimEvent]:
    return list(generate(SCENARIO))


@pytest.fixture(scope="module")
def truth() -> dict[str, simulator.GroundTruth]:
    return ground_truth(SCENARIO)


@pytest.fixture(scope="module")
def models(events: list[SimEvent]) -> list[Transaction | Interaction | Customer]:
    """Every event validated against its topic's model (once: the validation is the slow part)."""
    validated: list[Transaction | Interaction | Customer] = []
    for event in events:
        model = INPUT_MODELS[event.topic].model_validate_json(event.value)
        assert isinstance(model, Transaction | Interaction | Customer)
        validated.append(model)
    return validated


@pytest.fixture(scope="module")
def parsed(
    models: list[Transaction | Interaction | Customer],
) -> dict[str, list[Transaction | Interaction | Customer]]:
    """The validated events per customer, in stream order."""
    by_customer: dict[str, list[Transaction | Interaction | Customer]] = defaultdict(list)
    for model in models:
        by_customer[model.customer_id].append(model)
    return by_customer


def _transactions(models: list[Transaction | Interaction | Customer]) -> list[Transaction]:
    return [m for m in models if isinstance(m, Transaction)]


def _interactions(models: list[Transaction | Interaction | Customer]) -> list[Interaction]:
    return [m for m in models if isinstance(m, Interaction)]


def _of(truth: dict[str, simulator.GroundTruth], persona: str) -> list[str]:
    return [cid for cid, facts in truth.items() if facts["persona"] == persona]


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_the_same_bytes(events: list[SimEvent]) -> None:
    again = list(generate(SCENARIO))
    assert again == events
    assert [e.value for e in again] == [e.value for e in events]


def test_other_seed_gives_other_traffic(events: list[SimEvent]) -> None:
    other = list(generate(replace(SCENARIO, seed=8, customers=50)))
    mine = [e.value for e in events if e.customer_id <= "C000050"]
    assert [e.value for e in other] != mine
    assert ground_truth(replace(SCENARIO, seed=8)) != ground_truth(SCENARIO)


def test_a_customer_does_not_depend_on_the_population_size(events: list[SimEvent]) -> None:
    small = [e for e in generate(replace(SCENARIO, customers=20))]
    assert small == [e for e in events if e.customer_id <= "C000020"]


# --------------------------------------------------------------------------- contract


def test_every_valid_event_validates_against_its_topic(
    events: list[SimEvent], models: list[Transaction | Interaction | Customer]
) -> None:
    ids: set[str] = set()
    assert len(models) == len(events)
    for event, model in zip(events, models, strict=True):
        assert event.valid
        assert event.topic in INPUT_TOPICS
        assert event.key == event.customer_id.encode() == model.customer_id.encode()
        assert event.occurred_at == model.occurred_at
        # byte-identical to what model_dump_json of the validated model gives
        assert model.model_dump_json().encode() == event.value
        assert model.event_id not in ids
        ids.add(model.event_id)
    assert {e.topic for e in events} == set(INPUT_TOPICS)


def test_topics_carry_their_own_type(events: list[SimEvent]) -> None:
    expected = {TRANSACTIONS: "transaction", INTERACTIONS: "interaction", CUSTOMERS: "customer"}
    for event in events[:5000]:
        assert json.loads(event.value)["type"] == expected[event.topic]


def test_ids_and_amounts_look_like_a_bank(parsed: dict[str, list[Any]]) -> None:
    for cid, models in parsed.items():
        assert cid.startswith("C") and len(cid) == 7 and cid[1:].isdigit()
        for tx in _transactions(models):
            assert tx.account_id in {f"A{cid[1:]}-1", f"A{cid[1:]}-2"}
            assert tx.currency == "EUR"
            assert tx.amount > 0
            assert tx.amount == tx.amount.quantize(Decimal("0.01"))
            assert tx.balance_after is not None


def test_events_are_in_event_time_order_and_never_in_the_future() -> None:
    before = datetime.now(UTC)
    stream = list(generate(Scenario(customers=30, days=40)))  # default start: ends about now
    after = datetime.now(UTC)
    times = [e.occurred_at for e in stream]
    assert times == sorted(times)
    assert times and max(times) <= after
    assert min(times) == before.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=40)


def test_a_scenario_reaching_into_the_future_is_cut_at_now() -> None:
    now = datetime.now(UTC)
    stream = list(generate(Scenario(customers=20, days=30, start=now - timedelta(days=10))))
    assert stream
    assert max(e.occurred_at for e in stream) <= datetime.now(UTC)
    assert max(e.occurred_at for e in stream) > now - timedelta(days=3)


def test_stream_order_is_non_decreasing(events: list[SimEvent]) -> None:
    times = [e.occurred_at for e in events]
    assert all(a <= b for a, b in itertools.pairwise(times))
    assert times[0] >= START and times[-1] < END


def test_each_customer_starts_with_master_data(
    parsed: dict[str, list[Any]], truth: dict[str, simulator.GroundTruth]
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
        for tx in _transactions(models):
            assert tx.balance_after is not None
            if tx.account_id in last:
                sign = 1 if tx.kind in INFLOW_KINDS else -1
                assert tx.balance_after == last[tx.account_id] + sign * tx.amount, tx
            last[tx.account_id] = tx.balance_after


# --------------------------------------------------------------------------- ground truth


def _day(truth: dict[str, simulator.GroundTruth], cid: str, field: str) -> datetime:
    value = truth[cid][field]  # type: ignore[literal-required]
    assert isinstance(value, date)
    return datetime.combine(value, datetime.min.time(), UTC)


def test_ground_truth_covers_every_customer_consistently(
    truth: dict[str, simulator.GroundTruth], events: list[SimEvent]
) -> None:
    assert set(truth) == {e.customer_id for e in events}
    assert len(truth) == SCENARIO.customers
    assert {facts["persona"] for facts in truth.values()} == set(PERSONAS)
    assert abs(sum(PERSONA_WEIGHTS) - 1.0) < 1e-9
    lost = 0
    for facts in truth.values():
        if facts["persona"] in (DRIFTING, COMPLAINER):
            assert facts["signal_on"] is not None and facts["lost_on"] is not None
        if facts["lost_on"] is None:
            assert facts["signal_on"] is None
            continue
        lost += 1
        assert facts["persona"] in (DRIFTING, COMPLAINER, DORMANT)
        assert facts["signal_on"] is not None
        assert START.date() <= facts["signal_on"] <= facts["lost_on"] < END.date()
    assert 0.08 < lost / len(truth) < 0.25  # churners plus lapsing dormant customers
    lapsing = [c for c in _of(truth, DORMANT) if truth[c]["lost_on"] is not None]
    assert lapsing and len(lapsing) < len(_of(truth, DORMANT)) / 2
    # no simulation needed, and independent of the population size
    small = ground_truth(replace(SCENARIO, customers=30))
    assert small == {c: facts for c, facts in truth.items() if c <= "C000030"}


# --------------------------------------------------------------------------- personas


def _kind(models: list[Any], kind: str) -> list[Any]:
    return [m for m in models if getattr(m, "kind", None) == kind]


def _per_day(models: list[Any], kind: str, since: datetime, until: datetime) -> float:
    days = max(1, (until - since).days)
    count: int = sum(since <= m.occurred_at < until for m in _kind(models, kind))
    return count / days


def test_loyal_customers_are_paid_monthly_mostly_on_the_last_business_day(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    full_months = {(2025, 1), (2025, 2), (2025, 3), (2025, 4)}  # 2025-01-01 + 120 days = 2025-05-01
    loyal = _of(truth, LOYAL)
    assert len(loyal) > 60
    every_month = last_business_day = paid = 0
    payers: dict[str, set[str | None]] = {}
    for cid in loyal:
        salaries = _kind(parsed[cid], "salary_credit")
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
        assert len(_kind(parsed[cid], "login")) >= 1
    assert every_month > 0.85 * len(loyal)
    assert 0.5 < last_business_day / paid < 0.75  # the others: a fixed day or the first business day
    assert any(len(banks) == 2 for banks in payers.values())  # somebody changed employer
    amounts = sorted(t.amount for cid in loyal for t in _kind(parsed[cid], "salary_credit"))
    assert Decimal(1800) < amounts[len(amounts) // 2] < Decimal(4000)
    assert len(set(amounts)) > len(amounts) * 0.9  # drawn, not constant
    logins = sorted(len(_kind(parsed[cid], "login")) for cid in loyal)
    assert 20 < logins[len(logins) // 2] < 150
    assert logins[0] < 20 < 80 < logins[-1]  # per-customer rates differ a lot


def test_drifting_customers_move_salary_and_balance_away_then_fall_silent(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    drifting = _of(truth, DRIFTING)
    assert len(drifting) >= 10
    before: dict[str, float] = defaultdict(float)
    after: dict[str, float] = defaultdict(float)
    durations = []
    for cid in drifting:
        signal, lost = _day(truth, cid, "signal_on"), _day(truth, cid, "lost_on")
        durations.append((lost - signal).days)
        models = parsed[cid]
        txs = _transactions(models)
        assert all(t.occurred_at < lost for t in _kind(models, "salary_credit")), cid
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
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    early = 0
    for cid in _of(truth, DRIFTING):
        repayments = _kind(parsed[cid], "loan_repayment")
        if repayments and max(r.amount for r in repayments) > 4 * min(r.amount for r in repayments):
            payoff = max(repayments, key=lambda r: r.amount)
            assert payoff.occurred_at < _day(truth, cid, "lost_on") + timedelta(days=1)
            assert not [r for r in repayments if r.occurred_at > payoff.occurred_at]
            early += 1
    assert early >= 1
    monthly = [cid for cid in _of(truth, LOYAL) if len(_kind(parsed[cid], "loan_repayment")) >= 4]
    assert 0.1 * len(_of(truth, LOYAL)) < len(monthly) < 0.45 * len(_of(truth, LOYAL))


def test_complainers_are_left_unanswered_score_low_and_leave(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    complainers = _of(truth, COMPLAINER)
    assert complainers
    unhappy = 0
    for cid in complainers:
        interactions = _interactions(parsed[cid])
        opened = _kind(interactions, "complaint_opened")
        assert opened and opened[0].occurred_at.date() == truth[cid]["signal_on"]
        assert all(i.reference is not None and i.reference.startswith("CMP-") for i in opened)
        lost = _day(truth, cid, "lost_on")
        assert not [i for i in _kind(interactions, "complaint_resolved") if i.occurred_at < lost]
        scores = [
            i.score for i in _kind(interactions, "survey_response") if i.occurred_at >= opened[0].occurred_at
        ]
        assert all(s is not None and s <= 4 for s in scores)
        unhappy += bool(scores)
        assert _per_day(parsed[cid], "card_payment", lost + timedelta(days=1), END) < 0.3
    assert unhappy >= len(complainers) // 2
    references = [i.reference for models in parsed.values() for i in _kind(models, "complaint_opened")]
    assert len(references) == len(set(references))


def test_customers_who_stay_include_resolved_complaints_and_big_one_off_payments(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    stayers = [cid for cid, facts in truth.items() if facts["lost_on"] is None]
    resolved = [cid for cid in stayers if _kind(parsed[cid], "complaint_resolved")]
    assert resolved
    for cid in resolved:
        opened = {i.reference: i.occurred_at for i in _kind(parsed[cid], "complaint_opened")}
        for done in _kind(parsed[cid], "complaint_resolved"):
            assert opened[done.reference] < done.occurred_at
    big = [
        cid
        for cid in stayers
        for t in _kind(parsed[cid], "transfer_out")
        if t.amount >= 5000 and t.counterparty_bank not in (None, HOME_BANK)
    ]
    assert big
    assert all(truth[cid]["persona"] in (LOYAL, AFFLUENT) for cid in big)
    updates = [cid for cid in parsed if _kind(parsed[cid], "contact_update")]
    assert 0.05 * len(parsed) < len(updates) < 0.6 * len(parsed)


def test_young_digital_customers_are_mobile_busy_and_small_spenders(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    young = _of(truth, YOUNG)
    assert len(young) >= 10
    loyal = _of(truth, LOYAL)

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    mobile = [i.channel == "mobile" for cid in young for i in _kind(parsed[cid], "login")]
    assert sum(mobile) / len(mobile) > 0.9
    logins = median([len(_kind(parsed[cid], "login")) for cid in young])
    assert logins > 2 * median([len(_kind(parsed[cid], "login")) for cid in loyal])
    cards = median([len(_kind(parsed[cid], "card_payment")) for cid in young])
    assert cards > 1.5 * median([len(_kind(parsed[cid], "card_payment")) for cid in loyal])
    amounts = [float(t.amount) for cid in young for t in _kind(parsed[cid], "card_payment")]
    assert median(amounts) < 15
    for cid in young:
        assert parsed[cid][0].birth_date > (START - timedelta(days=30 * 366)).date()
        assert not [i for i in _kind(parsed[cid], "branch_visit")]
        pay = [t.amount for t in _kind(parsed[cid], "salary_credit")]
        assert len(pay) <= 5 and all(p < 5000 for p in pay)  # small and irregular, if any


def test_new_customers_open_inside_the_scenario_with_an_onboarding_burst(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    new = _of(truth, NEW)
    assert len(new) >= 5
    switched = 0
    for cid in new:
        first = parsed[cid][0]
        assert isinstance(first, Customer) and first.opened_at is not None
        opened = first.opened_at
        assert all(m.occurred_at >= opened for m in parsed[cid])
        products = [
            i.product
            for i in _kind(parsed[cid], "product_opened")
            if i.occurred_at < opened + timedelta(days=5)
        ]
        assert "CURRENT_ACCOUNT" in products and "DEBIT_CARD" in products
        assert _per_day(parsed[cid], "login", opened, opened + timedelta(days=1)) >= 2
        salaries = _kind(parsed[cid], "salary_credit")
        assert all(t.occurred_at > opened + timedelta(days=20) for t in salaries)
        switched += bool(salaries)
    assert 0 < switched < len(new)


def test_dormant_and_affluent_customers_look_their_part(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    for cid in _of(truth, DORMANT):
        if truth[cid]["lost_on"] is None:  # dormant from the start: a handful of doings at most
            own = [m for m in parsed[cid][1:] if m.kind not in ("fee", "interest", "salary_credit")]
            assert len(own) < 25, cid
    affluent = _of(truth, AFFLUENT)
    assert affluent
    for cid in affluent:
        assert parsed[cid][0].segment == "private"
        assert _kind(parsed[cid], "investment_buy")
    logins = [i.channel for cid in affluent for i in _kind(parsed[cid], "login")]
    assert logins.count("web") > logins.count("mobile") * 0.6


def test_fees_and_month_end_postings(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    fees = [t for models in parsed.values() for t in _kind(models, "fee")]
    assert len({t.customer_id for t in fees}) > 0.5 * len(parsed)
    assert any(t.amount > 20 for t in fees)  # annual card fees next to small monthly ones
    interest = [t for models in parsed.values() for t in _kind(models, "interest")]
    assert interest and all(t.account_id.endswith("-2") for t in interest)


# --------------------------------------------------------------------------- seasonality

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


# --------------------------------------------------------------------------- broken messages


def test_invalid_messages_are_exactly_the_flagged_ones(events: list[SimEvent]) -> None:
    noisy = list(generate(replace(SCENARIO, customers=80, invalid_ratio=0.05)))
    broken = [e for e in noisy if not e.valid]
    assert 0.03 < len(broken) / len(noisy) < 0.07
    for event in noisy:
        if event.valid:
            INPUT_MODELS[event.topic].model_validate_json(event.value)
        else:
            assert event.topic == TRANSACTIONS
            assert event.key == event.customer_id.encode()
            with pytest.raises(ValidationError):
                Transaction.model_validate_json(event.value)
    flavours = set()
    for event in broken:
        try:
            body = json.loads(event.value)
        except ValueError:
            flavours.add("not json")
            continue
        if not {"amount", "account_id", "currency", "kind", "occurred_at"} <= set(body):
            flavours.add("missing field")
        elif body["amount"].startswith("-"):
            flavours.add("negative amount")
        else:
            flavours.add("unknown kind")
    assert flavours == {"not json", "missing field", "negative amount", "unknown kind"}
    # broken messages are added on the side: the valid traffic is unchanged
    assert [e for e in noisy if e.valid] == [e for e in events if e.customer_id <= "C000080"]
    times = [e.occurred_at for e in noisy]
    assert times == sorted(times)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": 0},
        {"customers": -1},
        {"invalid_ratio": 1.0},
        {"invalid_ratio": -0.1},
        {"start": datetime(2025, 1, 1)},
        {"start": datetime(1999, 1, 1, tzinfo=UTC)},
    ],
)
def test_nonsense_scenarios_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Scenario(**kwargs)


# --------------------------------------------------------------------------- sinks


def test_write_jsonl_writes_one_file_per_topic(tmp_path: Path) -> None:
    scenario = replace(SCENARIO, customers=10, days=20, invalid_ratio=0.1)
    stream = list(generate(scenario))
    counts = write_jsonl(stream, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["customers.jsonl", "interactions.jsonl", "transactions.jsonl"]
    assert counts == {t: sum(e.topic == t and e.valid for e in stream) for t in INPUT_TOPICS}
    for topic, name in simulator.JSONL_FILES.items():
        lines = (tmp_path / name).read_bytes().splitlines()
        assert len(lines) == counts[topic]
        for line in lines:
            assert isinstance(json.loads(line), dict)
            INPUT_MODELS[topic].model_validate_json(line)
    with_broken = write_jsonl(stream, tmp_path / "all", include_invalid=True)
    assert with_broken[TRANSACTIONS] == sum(e.topic == TRANSACTIONS for e in stream) > counts[TRANSACTIONS]


class FakeFuture:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def add_errback(self, callback: Any) -> FakeFuture:
        if self.error is not None:
            callback(self.error)
        return self


class FakeProducer:
    instances: list[FakeProducer] = []
    fail_every: int = 0

    def __init__(self, **configs: Any) -> None:
        self.configs = configs
        self.sent: list[tuple[str, bytes, bytes, float]] = []
        self.flushed = self.closed = False
        FakeProducer.instances.append(self)

    def send(self, topic: str, value: bytes, key: bytes) -> FakeFuture:
        self.sent.append((topic, key, value, time.monotonic()))
        failed = self.fail_every and len(self.sent) % self.fail_every == 0
        return FakeFuture(RuntimeError("broker said no") if failed else None)

    def flush(self) -> None:
        self.flushed = True

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeProducer]]:
    FakeProducer.instances = []
    FakeProducer.fail_every = 0
    monkeypatch.setattr(simulator, "KafkaProducer", FakeProducer)
    yield FakeProducer


def test_produce_sends_everything_and_counts_per_topic(
    fake_kafka: type[FakeProducer], events: list[SimEvent]
) -> None:
    stream = list(generate(replace(SCENARIO, customers=10, invalid_ratio=0.05)))
    seen: list[SimEvent] = []
    counts = produce(stream, "broker:9092", rate=None, on_sent=seen.append)
    (producer,) = fake_kafka.instances
    assert producer.configs == {"bootstrap_servers": "broker:9092", "linger_ms": 5, "acks": 1}
    assert producer.flushed and producer.closed
    assert [(t, k, v) for t, k, v, _ in producer.sent] == [(e.topic, e.key, e.value) for e in stream]
    assert seen == stream
    assert counts == {t: sum(e.topic == t for e in stream) for t in INPUT_TOPICS}


def test_produce_paces_to_the_rate(fake_kafka: type[FakeProducer], events: list[SimEvent]) -> None:
    started = time.monotonic()
    produce(events[:300], "broker:9092", rate=1000.0)
    elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 3.0
    stamps = [s for *_, s in fake_kafka.instances[0].sent]
    assert stamps[150] - stamps[0] > 0.12  # paced throughout, not one burst at the end


def test_produce_stops_when_asked(fake_kafka: type[FakeProducer], events: list[SimEvent]) -> None:
    stop = threading.Event()
    sent: list[SimEvent] = []

    def on_sent(event: SimEvent) -> None:
        sent.append(event)
        if len(sent) == 25:
            stop.set()

    counts = produce(events, "broker:9092", rate=None, stop=stop, on_sent=on_sent)
    assert sum(counts.values()) == 25 == len(fake_kafka.instances[0].sent)
    assert fake_kafka.instances[0].closed


def test_produce_stops_while_waiting_for_the_rate(
    fake_kafka: type[FakeProducer], events: list[SimEvent]
) -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    counts = produce(events, "broker:9092", rate=50.0, stop=stop)
    assert time.monotonic() - started < 1.5
    assert 0 < sum(counts.values()) < 40


def test_produce_reports_refused_messages(fake_kafka: type[FakeProducer], events: list[SimEvent]) -> None:
    fake_kafka.fail_every = 10
    with pytest.raises(ProduceError) as caught:
        produce(events[:100], "broker:9092", rate=None)
    assert caught.value.failed == 10
    assert sum(caught.value.counts.values()) == 100
    assert fake_kafka.instances[0].closed


def test_produce_rejects_a_useless_rate(fake_kafka: type[FakeProducer]) -> None:
    with pytest.raises(ValueError):
        produce([], "broker:9092", rate=0)


def test_a_pinned_scenario_keeps_its_start_whatever_the_date() -> None:
    scenario = Scenario(customers=3, days=5, seed=2)
    pinned = scenario.pinned()
    assert scenario.start is None and pinned.start == scenario.resolved_start()
    assert pinned.resolved_start() == pinned.start
