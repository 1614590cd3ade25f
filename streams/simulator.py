"""Seeded, deterministic bank traffic for demos, load tests and rule tuning.

The generator plays a population of customers with different personas (loyal salaried,
drifting towards another bank, complainers, dormant, affluent investors) and yields their
events in global event-time order. Everything is driven by ``random.Random`` instances
derived from the scenario seed, so the same scenario always yields the same bytes, and the
known persona of every customer (``ground_truth``) lets rules be scored against reality.

Each customer has its own random streams (one for the plan, one for the events, one for
broken messages), so a customer's traffic does not change when the population grows and the
valid traffic does not change when ``invalid_ratio`` does.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final, TypedDict

from kafka import KafkaProducer

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS
from schemas.common import EARLIEST_EVENT_TIME, Channel
from schemas.inputs import (
    INFLOW_KINDS,
    Customer,
    Interaction,
    InteractionKind,
    KycRisk,
    Segment,
    Transaction,
    TransactionKind,
)

HOME_BANK: Final = "SIGNALBANK"
"""Our own bank code in ``counterparty_bank`` (internal transfers); matches ``Settings.home_bank``."""
COMPETITOR_BANKS: Final = ("REVOLUT", "N26", "ING", "BUNQ", "TRADE_REPUBLIC", "DKB", "C24")
"""Where drifting customers move their money."""
EMPLOYER_BANKS: Final = ("DEUTSCHE", "COMMERZBANK", "SPARKASSE", "HYPOVEREINS", "BNP", HOME_BANK)
LANDLORD_BANKS: Final = ("SPARKASSE", "VOLKSBANK", "DEUTSCHE", "POSTBANK")
_TRANSFER_IN_BANKS: Final = (*LANDLORD_BANKS, *COMPETITOR_BANKS, HOME_BANK)

LOYAL: Final = "loyal_salaried"
DRIFTING: Final = "drifting"
COMPLAINER: Final = "complainer"
DORMANT: Final = "dormant"
AFFLUENT: Final = "affluent_investor"
PERSONAS: Final = (LOYAL, DRIFTING, COMPLAINER, DORMANT, AFFLUENT)
PERSONA_WEIGHTS: Final = (0.55, 0.12, 0.08, 0.15, 0.10)

JSONL_FILES: Final = {
    TRANSACTIONS: "transactions.jsonl",
    INTERACTIONS: "interactions.jsonl",
    CUSTOMERS: "customers.jsonl",
}

_DAY: Final = 86_400
# Enum members bound once: attribute access on enum classes is slow in the hot loop.
_WEB: Final = Channel.WEB
_POS: Final = Channel.POS
_MOBILE: Final = Channel.MOBILE
_CARD: Final = TransactionKind.CARD_PAYMENT
_TRANSFER_OUT: Final = TransactionKind.TRANSFER_OUT
_FEE: Final = TransactionKind.FEE
_LOGIN: Final = InteractionKind.LOGIN
_SURVEY: Final = InteractionKind.SURVEY_RESPONSE
_COMPLAINT: Final = InteractionKind.COMPLAINT_OPENED
# The models' own validators and serializers, called directly: exactly what ``Model(**data)`` and
# ``model.model_dump_json()`` do, minus two Python wrappers per event (the hot path of ``generate``).
_validate_transaction: Final = Transaction.__pydantic_validator__.validate_python
_dump_transaction: Final = Transaction.__pydantic_serializer__.to_json
_validate_interaction: Final = Interaction.__pydantic_validator__.validate_python
_dump_interaction: Final = Interaction.__pydantic_serializer__.to_json
_CURRENCY: Final = "EUR"
_OUTFLOW_KINDS: Final = frozenset(TransactionKind) - INFLOW_KINDS

#: (merchant category code, weekday weight, weekend weight, median amount EUR, log sigma, online share)
_MCCS: Final = (
    ("5411", 30, 26, 38.0, 0.7, 0.02),  # grocery
    ("5812", 12, 24, 24.0, 0.6, 0.05),  # restaurants
    ("5814", 12, 8, 8.5, 0.5, 0.05),  # fast food / coffee
    ("5541", 8, 6, 55.0, 0.4, 0.0),  # fuel
    ("4111", 10, 4, 3.8, 0.6, 0.3),  # local transport
    ("5912", 5, 3, 14.0, 0.6, 0.1),  # pharmacy
    ("5691", 4, 9, 48.0, 0.8, 0.5),  # clothing
    ("5732", 2, 4, 90.0, 1.0, 0.7),  # electronics
    ("5999", 6, 7, 22.0, 0.9, 0.6),  # misc retail
    ("7832", 1, 5, 13.0, 0.3, 0.4),  # cinema
)
_MCC_WEEKDAY: Final = tuple(itertools.accumulate(m[1] for m in _MCCS))
_MCC_WEEKEND: Final = tuple(itertools.accumulate(m[2] for m in _MCCS))
_SUBSCRIPTION_MCCS: Final = (("4899", 11.99), ("4814", 24.99), ("5968", 9.99), ("7997", 29.0))
_PRODUCTS: Final = (
    "SAVINGS",
    "CREDIT_CARD",
    "DEBIT_CARD",
    "INVESTMENT_FUND",
    "CONSUMER_LOAN",
    "INSURANCE_HOME",
)
_CARDS: Final = ("CREDIT_CARD", "DEBIT_CARD")
_COMPLAINT_NOTES: Final = (
    "Fee charged twice for the same month",
    "Card blocked abroad without notice",
    "Transfer delayed by a week",
    "App keeps logging me out",
    "Nobody called back as promised",
    "Overdraft interest was not explained",
)


@dataclass(frozen=True)
class Scenario:
    """What to simulate: population size, time span, seed and the share of broken messages."""

    customers: int = 200
    days: int = 120
    seed: int = 7
    start: datetime | None = None
    """First instant; default: midnight UTC of today minus ``days`` (so the scenario ends about now)."""
    invalid_ratio: float = 0.0
    """Approximate share of all messages that are deliberately broken (to show dead-lettering)."""

    def __post_init__(self) -> None:
        """Reject scenarios that could only produce nonsense."""
        if self.customers < 0:
            raise ValueError("customers must be >= 0")
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if not 0.0 <= self.invalid_ratio < 1.0:
            raise ValueError("invalid_ratio must be in [0, 1)")
        if self.start is not None:
            if self.start.tzinfo is None or self.start.utcoffset() is None:
                raise ValueError("start must be timezone-aware")
            if self.start < EARLIEST_EVENT_TIME:
                raise ValueError(f"start must not be before {EARLIEST_EVENT_TIME.date()}")

    def resolved_start(self) -> datetime:
        """The scenario's first instant in UTC, whole seconds (the default depends on today's date)."""
        if self.start is not None:
            return self.start.astimezone(UTC).replace(microsecond=0)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return today - timedelta(days=self.days)


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One raw Kafka message as a producer would send it, plus what we know about it."""

    topic: str
    key: bytes
    value: bytes
    occurred_at: datetime
    customer_id: str
    valid: bool = True
    """False for deliberately broken messages (they must be dead-lettered by the consumer)."""


class GroundTruth(TypedDict):
    """What really happened to one customer, for scoring churn rules."""

    persona: str
    signal_on: date | None
    """First day of the story: salary stopped (drifting) or first complaint (complainer)."""
    lost_on: date | None
    """Day the customer was effectively lost: balance drained / activity collapsed."""


class ProduceError(RuntimeError):
    """Some messages were not acknowledged by Kafka; ``counts`` holds what was handed over."""

    def __init__(self, message: str, counts: dict[str, int], failed: int) -> None:
        super().__init__(message)
        self.counts = counts
        self.failed = failed


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class _Plan:
    """The seeded story of one customer, shared by ``generate`` and ``ground_truth``."""

    index: int
    customer_id: str
    persona: str
    household_id: str | None
    signal_day: int | None = None
    lost_day: int | None = None
    drain_days: tuple[int, ...] = ()
    second_complaint_day: int | None = None
    survey_day: int | None = None
    close_day: int | None = None
    tail_login_days: tuple[int, ...] = ()
    salary_stops_after_loss: bool = False
    exit_bank: str | None = None
    """The competitor a drifting customer moves to."""


def _customer_id(number: int) -> str:
    return f"C{number:06d}"


def _plans(scenario: Scenario) -> list[_Plan]:
    """Assign personas and households (population RNG) and the key story days (per customer)."""
    population = random.Random(f"signalbank-sim:{scenario.seed}:population")
    days = scenario.days
    plans: list[_Plan] = []
    previous_household: str | None = None
    for index in range(scenario.customers):
        number = index + 1
        persona = population.choices(PERSONAS, PERSONA_WEIGHTS)[0]
        household: str | None = None
        if population.random() < 0.35:
            if previous_household is not None and population.random() < 0.4:
                household = previous_household
            else:
                household = f"H{number:06d}"
        previous_household = household
        rng = random.Random(f"signalbank-sim:{scenario.seed}:{number}:plan")
        cid = _customer_id(number)
        last = days - 1
        if persona == DRIFTING:
            drift = min(last, int(days * rng.uniform(0.35, 0.60)))
            count = rng.randint(2, 4)
            drain: list[int] = []
            day = drift
            for _ in range(count):
                day = min(last, day + 1 + int(rng.expovariate(1 / 4)))
                drain.append(day)
            lost = drain[-1]
            close = min(last, lost + rng.randint(1, 10)) if rng.random() < 0.5 else None
            tail_start = min(last, lost + 1)
            tails = tuple(sorted(rng.randint(tail_start, last) for _ in range(rng.randint(1, 2))))
            plans.append(
                _Plan(
                    index,
                    cid,
                    persona,
                    household,
                    signal_day=drift,
                    lost_day=lost,
                    drain_days=tuple(sorted(set(drain))),
                    close_day=close,
                    tail_login_days=tails,
                    exit_bank=rng.choice(COMPETITOR_BANKS),
                )
            )
        elif persona == COMPLAINER:
            complaint = min(last, int(days * rng.uniform(0.25, 0.55)))
            second = min(last, complaint + 1 + int(rng.expovariate(1 / 6))) if rng.random() < 0.5 else None
            survey = min(last, complaint + rng.randint(3, 15)) if rng.random() < 0.75 else None
            lost = min(last, complaint + max(7, min(40, round(rng.gauss(21, 6)))))
            plans.append(
                _Plan(
                    index,
                    cid,
                    persona,
                    household,
                    signal_day=complaint,
                    lost_day=lost,
                    second_complaint_day=second,
                    survey_day=survey,
                    salary_stops_after_loss=rng.random() < 0.5,
                )
            )
        else:
            plans.append(_Plan(index, cid, persona, household))
    return plans


def ground_truth(scenario: Scenario) -> dict[str, GroundTruth]:
    """Persona and, for drifting and complaining customers, when they were lost (no simulation)."""
    start = scenario.resolved_start().date()

    def day(offset: int | None) -> date | None:
        return None if offset is None else start + timedelta(days=offset)

    return {
        plan.customer_id: GroundTruth(
            persona=plan.persona, signal_on=day(plan.signal_day), lost_on=day(plan.lost_day)
        )
        for plan in _plans(scenario)
    }


# --------------------------------------------------------------------------- simulation


@dataclass(slots=True)
class _Tx:
    """A transaction to book; the amount may be decided at booking time (guards, drains)."""

    sec: int
    kind: TransactionKind
    channel: Channel
    cents: int = 0
    account: int = 1
    counterparty: str | None = None
    mcc: str | None = None
    guarded: bool = False
    """Skip when it would take the account below zero (discretionary spending)."""
    drain: float = 0.0
    """Share of the available balance to move out instead of ``cents`` (drifting customers)."""
    keep: int = 0
    mirror: int | None = None
    """Internal transfer: also book a ``transfer_in`` on this account of the same customer."""


@dataclass(slots=True)
class _Ix:
    """An interaction to record."""

    sec: int
    kind: InteractionKind
    channel: Channel
    product: str | None = None
    score: int | None = None
    reference: str | None = None
    note: str | None = None


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _cents(rng: random.Random, median: float, sigma: float) -> int:
    """A positive amount in cents from a lognormal around ``median`` EUR."""
    return max(1, round(median * math.exp(sigma * rng.gauss()) * 100))


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: fine for the small daily rates used here."""
    if lam <= 0.0:
        return 0
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _tod(rng: random.Random, lo_h: float, hi_h: float) -> int:
    """Second of the day between the given hours, most likely mid-way (triangular; cheap)."""
    return int((lo_h + (hi_h - lo_h) * (rng.random() + rng.random()) * 0.5) * 3600)


def _last_business_day(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    day = nxt - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _month_day(year: int, month: int, dom: int) -> date:
    """Day ``dom`` (1-28) of the month, moved back off weekends like a standing order."""
    day = date(year, month, dom)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@dataclass(slots=True)
class _Counters:
    seq: int = 0
    order: int = 0
    broken: int = 0
    complaints: int = 0


_Item = tuple[int, int, int, SimEvent]


class _CustomerSim:
    """Plays one customer's story day by day, turning it into serialized, sortable events."""

    def __init__(self, plan: _Plan, scenario: Scenario, start: datetime) -> None:
        self.plan = plan
        self.cid = plan.customer_id
        self.key = plan.customer_id.encode()
        self.number = plan.index + 1
        self.days = scenario.days
        self.start = start
        self.start_ts = int(start.timestamp())
        self.start_date = start.date()
        self.first_weekday = self.start_date.weekday()
        self.account_prefix = f"A{self.number:06d}-"
        self.rng = random.Random(f"signalbank-sim:{scenario.seed}:{self.number}:events")
        self.bad_rng = random.Random(f"signalbank-sim:{scenario.seed}:{self.number}:invalid")
        ratio = scenario.invalid_ratio
        self.bad_p = ratio / (1.0 - ratio)
        self.counters = _Counters()
        self.balances: dict[int, int] = {}
        self._setup()

    # ----------------------------------------------------------------- profile

    def _setup(self) -> None:
        """Draw the persona's rates and amounts; they differ from customer to customer."""
        rng = self.rng
        persona = self.plan.persona
        self.salary = 0
        self.salaried = persona in (LOYAL, DRIFTING, COMPLAINER, AFFLUENT)
        if persona == AFFLUENT:
            self.salary = _cents(rng, 8000.0, 0.3)
            self.balances[1] = _cents(rng, 40_000.0, 0.5)
            self.card_rate = rng.lognormvariate(math.log(1.5), 0.25)
            self.login_rate = rng.lognormvariate(math.log(0.9), 0.3)
        elif persona == DORMANT:
            self.balances[1] = _cents(rng, 400.0, 0.8)
            self.card_rate = rng.uniform(0.01, 0.05)
            self.login_rate = rng.uniform(0.01, 0.04)
        else:
            self.salary = _cents(rng, 3000.0, 0.25)
            self.balances[1] = _cents(rng, 2500.0, 0.6)
            self.card_rate = rng.lognormvariate(math.log(1.3), 0.3)
            self.login_rate = rng.lognormvariate(math.log(0.6), 0.35)
        self.spend_scale = max(0.4, self.salary / 300_000) if self.salary else 0.5
        self.mobile_share = rng.uniform(0.55, 0.9) if persona != AFFLUENT else rng.uniform(0.3, 0.6)
        self.pay_rule = "last_business_day" if rng.random() < 0.6 else f"dom:{rng.randint(25, 28)}"
        self.employer_bank = rng.choice(EMPLOYER_BANKS)
        self.fee_cents = rng.choice((290, 490, 690, 890)) if persona != AFFLUENT else rng.choice((0, 1490))
        self.interest_rate = rng.uniform(0.002, 0.015)
        has_savings = persona == AFFLUENT or (persona != DORMANT and rng.random() < 0.4)
        if has_savings:
            self.balances[2] = _cents(rng, 6000.0 if persona != AFFLUENT else 50_000.0, 0.7)
        self.save_cents = _cents(rng, self.salary / 100 * 0.08, 0.3) if has_savings and self.salary else 0
        self.rent = 0
        if persona in (LOYAL, DRIFTING, COMPLAINER) and rng.random() < 0.45:
            self.rent = round(self.salary * rng.uniform(0.2, 0.32))
        self.rent_bank = rng.choice(LANDLORD_BANKS)
        self.rent_dom = rng.randint(1, 4)
        self.loan = _cents(rng, 350.0, 0.4) if persona == LOYAL and rng.random() < 0.25 else 0
        self.loan_dom = rng.randint(1, 6)
        n_subs = rng.randint(1, 3) if persona != DORMANT else rng.randint(0, 1)
        self.subscriptions = [
            (rng.randint(1, 28), mcc, max(100, round(price * 100 * rng.uniform(0.8, 1.2))))
            for mcc, price in rng.sample(_SUBSCRIPTION_MCCS, n_subs)
        ]
        self.monthly: dict[int, list[str]] = {}
        self._schedule_months()
        self._rare_table()
        plan = self.plan
        self.story_days = frozenset(
            d
            for d in (
                plan.signal_day,
                plan.second_complaint_day,
                plan.survey_day,
                plan.close_day,
                *plan.drain_days,
                *plan.tail_login_days,
            )
            if d is not None
        )

    def _schedule_months(self) -> None:
        """Place the monthly bookings (salary, rent, loan, fees, interest, subscriptions) on day indices."""
        first = self.start_date
        year, month = first.year, first.month
        end = first + timedelta(days=self.days)
        while date(year, month, 1) < end:
            if self.salaried:
                if self.pay_rule == "last_business_day":
                    payday = _last_business_day(year, month)
                else:
                    payday = _month_day(year, month, int(self.pay_rule[4:]))
                self._at(payday, "salary")
                self._at(payday + timedelta(days=self.rng.randint(0, 2)), "save")
            self._at(_month_day(year, month, self.rent_dom), "rent")
            self._at(_month_day(year, month, self.loan_dom), "loan")
            self._at(_month_day(year, month, 2), "fee")
            self._at(date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1), "interest")
            for i, (dom, _mcc, _price) in enumerate(self.subscriptions):
                self._at(date(year, month, dom), f"sub:{i}")
            year, month = year + (month == 12), month % 12 + 1

    def _at(self, day: date, what: str) -> None:
        offset = (day - self.start_date).days
        if 0 <= offset < self.days:
            self.monthly.setdefault(offset, []).append(what)

    def activity(self, day: int) -> float:
        """Multiplier of everyday activity: the persona's story fades it out."""
        plan = self.plan
        if plan.signal_day is None or day < plan.signal_day:
            return 1.0
        if plan.persona == DRIFTING:
            return max(0.03, math.exp(-(day - plan.signal_day) / 7.0))
        assert plan.lost_day is not None
        return 0.45 if day < plan.lost_day else 0.15

    def _rare_table(self) -> None:
        """Daily rates of the infrequent doings; one draw per day picks at most one of them."""
        persona = self.plan.persona
        rates: list[tuple[float, str]]
        if persona == DORMANT:
            rates = [(0.02, "withdrawal"), (0.03, "transfer_in"), (0.015, "deposit")]
        else:
            rates = [
                (0.07, "withdrawal"),
                (0.03, "transfer_in"),
                (0.01, "deposit"),
                (0.01, "call"),
                (0.005, "branch_visit"),
                (0.003, "contact_update"),
                (0.003, "product_opened"),
                (0.004, "survey"),
            ]
            if persona in (LOYAL, AFFLUENT):
                rates.append((0.002, "resolved_complaint"))
            if persona == AFFLUENT:
                rates += [(0.10, "investment_buy"), (0.05, "investment_sell"), (0.02, "advisor_call")]
        self.rare_tags = tuple(tag for _rate, tag in rates)
        self.rare_cum = tuple(itertools.accumulate(rate for rate, _tag in rates))

    # ----------------------------------------------------------------- daily plan

    def _day_ops(self, day: int) -> list[_Tx | _Ix]:
        """Everything this customer does on one day, unsorted, amounts possibly still open."""
        rng = self.rng
        ops: list[_Tx | _Ix] = []
        weekend = (self.first_weekday + day) % 7 >= 5
        act = 1.0 if self.plan.signal_day is None else self.activity(day)
        monthly = self.monthly.get(day)
        if monthly:
            self._monthly_ops(day, monthly, ops)
        # Card payments: more on weekends; the category mix shifts too.
        for _ in range(_poisson(rng, self.card_rate * act * (1.3 if weekend else 1.0))):
            cum = _MCC_WEEKEND if weekend else _MCC_WEEKDAY
            idx = bisect.bisect_right(cum, rng.random() * cum[-1])
            mcc, _wd, _we, median, sigma, online = _MCCS[idx]
            ops.append(
                _Tx(
                    _tod(rng, 7.5, 21.5),
                    _CARD,
                    _WEB if rng.random() < online else _POS,
                    _cents(rng, median * self.spend_scale, sigma),
                    mcc=mcc,
                    guarded=True,
                )
            )
        for _ in range(_poisson(rng, self.login_rate * act * (1.15 if weekend else 1.0))):
            channel = _MOBILE if rng.random() < self.mobile_share else _WEB
            ops.append(_Ix(_tod(rng, 3, 23), _LOGIN, channel))
        u = rng.random()
        if u < self.rare_cum[-1] * act:
            self._rare_op(self.rare_tags[bisect.bisect_right(self.rare_cum, u / act)], day, ops)
        if day in self.story_days:
            self._story_ops(day, ops)
        return ops

    def _monthly_ops(self, day: int, monthly: list[str], ops: list[_Tx | _Ix]) -> None:
        """Salary, standing orders, fees, interest and subscriptions due on this day."""
        rng = self.rng
        plan = self.plan
        drifted = plan.persona == DRIFTING and plan.signal_day is not None and day >= plan.signal_day
        salary_stopped = drifted or (
            plan.persona == COMPLAINER
            and plan.salary_stops_after_loss
            and plan.lost_day is not None
            and day > plan.lost_day
        )
        for what in monthly:
            if what == "salary" and self.salary and not salary_stopped:
                cents = max(1, round(self.salary * rng.lognormvariate(0.0, 0.02)))
                ops.append(
                    _Tx(
                        _tod(rng, 2.4, 5.6),
                        TransactionKind.SALARY_CREDIT,
                        _WEB,
                        cents,
                        counterparty=self.employer_bank,
                    )
                )
            elif what == "save" and self.save_cents and not salary_stopped and 2 in self.balances:
                cents = max(1, round(self.save_cents * rng.uniform(0.7, 1.3)))
                ops.append(
                    _Tx(
                        _tod(rng, 7, 11),
                        _TRANSFER_OUT,
                        _WEB,
                        cents,
                        counterparty=HOME_BANK,
                        guarded=True,
                        mirror=2,
                    )
                )
            elif what == "rent" and self.rent and not salary_stopped:
                ops.append(
                    _Tx(
                        _tod(rng, 5, 7),
                        _TRANSFER_OUT,
                        _WEB,
                        self.rent,
                        counterparty=self.rent_bank,
                        guarded=True,
                    )
                )
            elif what == "loan" and self.loan:
                ops.append(_Tx(_tod(rng, 4, 6), TransactionKind.LOAN_REPAYMENT, _WEB, self.loan))
            elif what == "fee" and self.fee_cents:
                ops.append(_Tx(_tod(rng, 1, 2.1), _FEE, _WEB, self.fee_cents))
            elif what == "interest":
                for account in sorted(self.balances):
                    cents = int(max(0, self.balances[account]) * self.interest_rate / 12)
                    if cents > 0:
                        ops.append(
                            _Tx(
                                _tod(rng, 0.1, 0.9),
                                TransactionKind.INTEREST,
                                _WEB,
                                cents,
                                account=account,
                                counterparty=HOME_BANK,
                            )
                        )
            elif what.startswith("sub:"):
                _dom, mcc, price = self.subscriptions[int(what[4:])]
                ops.append(_Tx(_tod(rng, 1, 5), _CARD, _WEB, price, mcc=mcc, guarded=True))

    def _rare_op(self, tag: str, day: int, ops: list[_Tx | _Ix]) -> None:
        """One infrequent doing; loyal customers' occasional complaints do get resolved."""
        rng = self.rng
        before_story = self.plan.signal_day is None or day < self.plan.signal_day
        if tag == "withdrawal":
            cents = max(1000, round(rng.lognormvariate(math.log(90 * self.spend_scale), 0.6) / 10) * 1000)
            ops.append(_Tx(_tod(rng, 7, 21), TransactionKind.WITHDRAWAL, Channel.ATM, cents, guarded=True))
            if rng.random() < 0.1:  # foreign ATM
                ops.append(_Tx(_tod(rng, 23.5, 23.9), _FEE, Channel.ATM, _cents(rng, 2.5, 0.3)))
        elif tag == "transfer_in":
            ops.append(
                _Tx(
                    _tod(rng, 9, 21),
                    TransactionKind.TRANSFER_IN,
                    _WEB,
                    _cents(rng, 60.0, 0.9),
                    counterparty=rng.choice(_TRANSFER_IN_BANKS),
                )
            )
        elif tag == "deposit":
            ops.append(
                _Tx(
                    _tod(rng, 8, 18),
                    TransactionKind.DEPOSIT,
                    rng.choice((Channel.ATM, Channel.BRANCH)),
                    _cents(rng, 250.0, 0.7),
                )
            )
        elif tag == "investment_buy":
            ops.append(
                _Tx(
                    _tod(rng, 8, 16),
                    TransactionKind.INVESTMENT_BUY,
                    _WEB,
                    _cents(rng, 5000.0, 0.7),
                    guarded=True,
                )
            )
        elif tag == "investment_sell":
            ops.append(_Tx(_tod(rng, 8, 16), TransactionKind.INVESTMENT_SELL, _WEB, _cents(rng, 6000.0, 0.7)))
        elif tag == "advisor_call":
            ops.append(_Ix(_tod(rng, 8, 15), InteractionKind.CALL, Channel.CALL_CENTRE, note="advisor call"))
        elif tag == "call":
            ops.append(_Ix(_tod(rng, 8, 16), InteractionKind.CALL, Channel.CALL_CENTRE))
        elif tag == "branch_visit":
            ops.append(_Ix(_tod(rng, 9, 16), InteractionKind.BRANCH_VISIT, Channel.BRANCH))
        elif tag == "contact_update":
            ops.append(_Ix(_tod(rng, 15, 23), InteractionKind.CONTACT_UPDATE, rng.choice((_MOBILE, _WEB))))
        elif tag == "product_opened" and before_story:
            ops.append(
                _Ix(
                    _tod(rng, 10, 22),
                    InteractionKind.PRODUCT_OPENED,
                    rng.choice((_WEB, _MOBILE, Channel.BRANCH)),
                    product=rng.choice(_PRODUCTS),
                )
            )
        elif tag == "survey" and before_story:
            score = min(10, max(5, round(rng.gauss(8.3, 1.3))))
            ops.append(_Ix(_tod(rng, 14, 22), _SURVEY, _WEB, score=score))
        elif tag == "resolved_complaint":
            reference = self._complaint_reference()
            sec = _tod(rng, 8, 15)
            ops.append(
                _Ix(
                    sec,
                    _COMPLAINT,
                    Channel.CALL_CENTRE,
                    reference=reference,
                    note=rng.choice(_COMPLAINT_NOTES),
                )
            )
            ops.append(
                _Ix(
                    min(_DAY - 1, sec + 3600 + int(rng.expovariate(1 / 7200))),
                    InteractionKind.COMPLAINT_RESOLVED,
                    Channel.CALL_CENTRE,
                    reference=reference,
                )
            )

    def _complaint_reference(self) -> str:
        self.counters.complaints += 1
        return f"CMP-{self.number * 100 + self.counters.complaints}"

    def _story_ops(self, day: int, ops: list[_Tx | _Ix]) -> None:
        """The persona's scripted turning points (drain, complaints, survey, closure)."""
        plan = self.plan
        rng = self.rng
        if plan.persona == DRIFTING:
            if day in plan.drain_days:
                remaining = [d for d in plan.drain_days if d >= day]
                share = 1.0 if len(remaining) == 1 else rng.uniform(0.4, 0.7)
                sec = _tod(rng, 14, 23)
                channel = Channel.MOBILE if rng.random() < self.mobile_share else Channel.WEB
                login_sec = max(0, sec - 60 - int(rng.expovariate(1 / 120)))
                ops.append(_Ix(login_sec, _LOGIN, channel))
                bank = plan.exit_bank if rng.random() < 0.85 else rng.choice(COMPETITOR_BANKS)
                keep = _cents(rng, 120.0, 0.4)
                if 2 in self.balances and day == plan.drain_days[0]:
                    ops.append(
                        _Tx(sec - 1, _TRANSFER_OUT, channel, account=2, counterparty=bank, drain=1.0, keep=0)
                    )
                ops.append(_Tx(sec, _TRANSFER_OUT, channel, counterparty=bank, drain=share, keep=keep))
            if day == plan.close_day:
                ops.append(
                    _Ix(
                        _tod(rng, 8, 20),
                        InteractionKind.PRODUCT_CLOSED,
                        rng.choice((Channel.WEB, Channel.BRANCH, Channel.CALL_CENTRE)),
                        product="SAVINGS" if 2 in self.balances else rng.choice(_CARDS),
                    )
                )
            for _ in range(plan.tail_login_days.count(day)):
                ops.append(_Ix(_tod(rng, 3, 23), InteractionKind.LOGIN, Channel.MOBILE))
        elif plan.persona == COMPLAINER:
            if day == plan.signal_day:
                sec = _tod(rng, 8, 17)
                channel = rng.choice((Channel.CALL_CENTRE, Channel.CALL_CENTRE, Channel.BRANCH, _WEB))
                if rng.random() < 0.6:
                    ops.append(_Ix(max(0, sec - 1800), InteractionKind.CALL, Channel.CALL_CENTRE))
                ops.append(
                    _Ix(
                        sec,
                        InteractionKind.COMPLAINT_OPENED,
                        channel,
                        reference=self._complaint_reference(),
                        note=rng.choice(_COMPLAINT_NOTES),
                    )
                )
            if day == plan.second_complaint_day:
                ops.append(
                    _Ix(
                        _tod(rng, 8, 17),
                        InteractionKind.COMPLAINT_OPENED,
                        rng.choice((Channel.CALL_CENTRE, Channel.WEB)),
                        reference=self._complaint_reference(),
                        note=rng.choice(_COMPLAINT_NOTES),
                    )
                )
            if day == plan.survey_day:
                ops.append(
                    _Ix(
                        _tod(rng, 14, 22),
                        InteractionKind.SURVEY_RESPONSE,
                        Channel.WEB,
                        score=rng.randint(0, 4),
                    )
                )

    # ----------------------------------------------------------------- booking

    def _book(self, op: _Tx) -> list[tuple[int, TransactionKind, int, int, str | None]]:
        """Apply a transaction to the running balances; returns the bookings that happened."""
        balance = self.balances.setdefault(op.account, 0)
        cents = op.cents
        if op.drain:
            available = balance - min(op.keep, max(0, balance) // 5)
            cents = available if op.drain >= 1.0 else int(available * op.drain)
        if cents <= 0:
            return []
        outflow = op.kind in _OUTFLOW_KINDS
        if outflow and op.guarded and balance - cents < 0:
            return []
        balance += -cents if outflow else cents
        self.balances[op.account] = balance
        booked = [(op.account, op.kind, cents, balance, op.counterparty)]
        if op.mirror is not None:
            mirrored = self.balances.setdefault(op.mirror, 0) + cents
            self.balances[op.mirror] = mirrored
            booked.append((op.mirror, TransactionKind.TRANSFER_IN, cents, mirrored, HOME_BANK))
        return booked

    def _event_id(self) -> str:
        self.counters.seq += 1
        return f"{self.cid}-{self.counters.seq:06d}"

    def _master_data(self) -> Customer:
        rng = self.rng
        persona = self.plan.persona
        mean_age, sd_age = {AFFLUENT: (52, 10), DORMANT: (55, 18)}.get(persona, (41, 13))
        age_days = int(min(90.0, max(18.0, rng.gauss(mean_age, sd_age))) * 365.25) + rng.randint(0, 364)
        birth = self.start_date - timedelta(days=age_days)
        tenure_days = 30 + int(min(age_days - 18 * 365, rng.expovariate(1 / (6 * 365))))
        if persona == AFFLUENT:
            segment = Segment.PRIVATE
        elif age_days < 26 * 365 and rng.random() < 0.6:
            segment = Segment.STUDENT
        elif rng.random() < 0.06:
            segment = Segment.SME
        else:
            segment = Segment.RETAIL
        return Customer(
            event_id=self._event_id(),
            customer_id=self.cid,
            occurred_at=self.start,
            birth_date=birth,
            opened_at=self.start - timedelta(days=max(30, tenure_days), seconds=rng.randint(0, _DAY - 1)),
            household_id=self.plan.household_id,
            segment=segment,
            marketing_consent=rng.random() < 0.7,
            kyc_risk=rng.choices((KycRisk.LOW, KycRisk.MEDIUM, KycRisk.HIGH), (0.85, 0.12, 0.03))[0],
        )

    def master_item(self) -> _Item:
        """The customer's master-data record, first of all their events."""
        self.counters.order += 1
        value = self._master_data().model_dump_json().encode()
        event = SimEvent(CUSTOMERS, self.key, value, self.start, self.cid)
        return (self.start_ts, self.plan.index, self.counters.order, event)

    def day_items(self, day: int) -> list[_Item]:
        """One day of the customer's events as sortable ``(ts, customer index, order, event)``."""
        ops = self._day_ops(day)
        if not ops:
            return []
        ops.sort(key=_sec)
        index, cid, key, counters = self.plan.index, self.cid, self.key, self.counters
        bad_p, bad_random = self.bad_p, self.bad_rng.random
        account_prefix = self.account_prefix
        day_ts = self.start_ts + day * _DAY
        items: list[_Item] = []
        for op in ops:
            ts = day_ts + op.sec
            at = _utc(ts)
            if isinstance(op, _Ix):
                counters.seq += 1
                value = _dump_interaction(
                    _validate_interaction(
                        {
                            "event_id": f"{cid}-{counters.seq:06d}",
                            "customer_id": cid,
                            "occurred_at": at,
                            "kind": op.kind,
                            "channel": op.channel,
                            "product": op.product,
                            "score": op.score,
                            "reference": op.reference,
                            "note": op.note,
                        }
                    )
                )
                counters.order += 1
                items.append((ts, index, counters.order, SimEvent(INTERACTIONS, key, value, at, cid)))
                if bad_p and bad_random() < bad_p:
                    items.append(self._broken(ts, at))
                continue
            for account, kind, cents, balance, counterparty in self._book(op):
                counters.seq += 1
                value = _dump_transaction(
                    _validate_transaction(
                        {
                            "event_id": f"{cid}-{counters.seq:06d}",
                            "customer_id": cid,
                            "occurred_at": at,
                            "account_id": f"{account_prefix}{account}",
                            "kind": kind,
                            "amount": _money(cents),
                            "currency": _CURRENCY,
                            "channel": op.channel,
                            "counterparty_bank": counterparty,
                            "merchant_category": op.mcc,
                            "balance_after": _money(balance),
                        }
                    )
                )
                counters.order += 1
                items.append((ts, index, counters.order, SimEvent(TRANSACTIONS, key, value, at, cid)))
                if bad_p and bad_random() < bad_p:
                    items.append(self._broken(ts, at))
        return items

    # ----------------------------------------------------------------- broken messages

    def _broken(self, ts: int, at: datetime) -> _Item:
        """A broken raw message, as a faulty upstream system would send it."""
        rng = self.bad_rng
        self.counters.broken += 1
        self.counters.order += 1
        event_id = f"{self.cid}-X{self.counters.broken:05d}"
        body: dict[str, object] = {
            "event_id": event_id,
            "customer_id": self.cid,
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
            "type": "transaction",
            "account_id": f"A{self.number:06d}-1",
            "kind": "card_payment",
            "amount": f"{rng.uniform(1, 200):.2f}",
            "currency": _CURRENCY,
            "channel": "pos",
            "merchant_category": "5411",
        }
        flavour = rng.randrange(4)
        if flavour == 0:
            value = json.dumps(body).encode()[: rng.randint(10, 60)] + b"\x00<truncated>"
        else:
            if flavour == 1:
                del body[rng.choice(("amount", "account_id", "currency", "kind", "occurred_at"))]
            elif flavour == 2:
                body["amount"] = f"-{body['amount']}"
            else:
                body["kind"] = rng.choice(("crypto_airdrop", "chargeback", "CARD_PAYMENT"))
            value = json.dumps(body, separators=(",", ":")).encode()
        event = SimEvent(TRANSACTIONS, self.key, value, at, self.cid, valid=False)
        return (ts, self.plan.index, self.counters.order, event)


def _sec(op: _Tx | _Ix) -> int:
    return op.sec


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def generate(scenario: Scenario) -> Iterator[SimEvent]:
    """All customers' events in non-decreasing event time (ties: customer, then sequence).

    Customers are played day by day and each day's events are sorted together, which is
    much cheaper than a heap merge over thousands of per-customer streams. Events later than
    the wall clock at the time of the call are never produced: a scenario reaching into the
    future is cut at "now".
    """
    start = scenario.resolved_start()
    start_ts = int(start.timestamp())
    now_ts = int(datetime.now(UTC).timestamp())
    if start_ts > now_ts:
        return
    sims = [_CustomerSim(plan, scenario, start) for plan in _plans(scenario)]
    for sim in sims:
        yield sim.master_item()[3]
    for day in range(scenario.days):
        if start_ts + day * _DAY > now_ts:
            return
        items: list[_Item] = []
        for sim in sims:
            items += sim.day_items(day)
        items.sort()
        for ts, _index, _order, event in items:
            if ts > now_ts:
                return
            yield event


# --------------------------------------------------------------------------- sinks


def produce(
    events: Iterable[SimEvent],
    bootstrap: str,
    rate: float | None,
    stop: threading.Event | None = None,
    on_sent: Callable[[SimEvent], None] | None = None,
) -> dict[str, int]:
    """Send events to Kafka at ``rate`` events/s (None: as fast as possible); counts per topic.

    Pacing works in bursts of about 1/100 s so the producer can batch; ``stop`` ends the run
    early (also while waiting). ``on_sent`` runs in the caller's thread once a message is
    handed to the producer. Raises ``ProduceError`` if the broker refused any message.
    """
    if rate is not None and rate <= 0:
        raise ValueError("rate must be > 0 or None")
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks=1)
    counts: dict[str, int] = {}
    failures: list[BaseException] = []
    burst = 1 if rate is None else max(1, min(1000, int(rate / 100)))
    sent = 0
    started = time.monotonic()
    try:
        for event in events:
            if stop is not None and stop.is_set():
                break
            if rate is not None and sent and sent % burst == 0:
                delay = started + sent / rate - time.monotonic()
                if delay > 0:
                    if stop is not None:
                        if stop.wait(delay):
                            break
                    else:
                        time.sleep(delay)
            future = producer.send(event.topic, value=event.value, key=event.key)
            future.add_errback(failures.append)
            counts[event.topic] = counts.get(event.topic, 0) + 1
            sent += 1
            if on_sent is not None:
                on_sent(event)
        producer.flush()
    finally:
        producer.close()
    if failures:
        message = f"{len(failures)} of {sent} messages failed: {failures[0]!r}"
        raise ProduceError(message, counts, len(failures))
    return counts


def write_jsonl(
    events: Iterable[SimEvent], out_dir: Path, *, include_invalid: bool = False
) -> dict[str, int]:
    """Write one JSONL file per input topic (for replays without Kafka); lines per topic.

    Broken messages are left out unless ``include_invalid`` (some of them are not JSON at all).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(JSONL_FILES, 0)
    handles = {topic: (out_dir / name).open("wb") for topic, name in JSONL_FILES.items()}
    try:
        for event in events:
            if not event.valid and not include_invalid:
                continue
            handle = handles.get(event.topic)
            if handle is None:
                raise ValueError(f"not an input topic: {event.topic}")
            handle.write(event.value.replace(b"\n", b" ") + b"\n")
            counts[event.topic] += 1
    finally:
        for handle in handles.values():
            handle.close()
    return counts


__all__ = [
    "AFFLUENT",
    "COMPETITOR_BANKS",
    "COMPLAINER",
    "DORMANT",
    "DRIFTING",
    "HOME_BANK",
    "JSONL_FILES",
    "LOYAL",
    "PERSONAS",
    "GroundTruth",
    "ProduceError",
    "Scenario",
    "SimEvent",
    "generate",
    "ground_truth",
    "produce",
    "write_jsonl",
]
