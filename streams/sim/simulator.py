"""Seeded, deterministic bank traffic for demos, load tests and rule backtests.

The generator plays a population of retail-bank customers and yields their events in global
event-time order. Everything is driven by ``random.Random`` instances derived from the scenario
seed, so the same scenario always yields the same bytes. Each customer has their own random
streams (plan, events, broken messages), so a customer's traffic does not change when the
population grows, and the valid traffic does not change with ``invalid_ratio``.

Personas (``PERSONA_WEIGHTS``; churners together about 14%):

* ``loyal_salaried``: salary (or pension) every month, rent and loan standing orders,
  subscriptions, card spend, logins. Noise that makes churn detection honestly hard: a
  month-long holiday with few logins, a change of employer (one salary missing, then a new
  payer and amount), a one-off large transfer out (car or house deposit), a complaint that is
  resolved (sometimes slowly, sometimes with a poor survey score) after which they stay.
* ``drifting``: moves to a competitor, fast (weeks) or slowly (months): a first small transfer
  to the new bank, salary and rent move away, the balance goes out in steps, card spend and
  logins fade, some repay their loan early (refinanced by the new bank), a product is closed,
  then silence with only bank postings and stray logins.
* ``complainer``: a complaint that stays unanswered (a few are resolved too late), often a
  second one and a detractor survey score; then leaves (balance out, or simply stops using us).
* ``dormant``: hardly any activity. Most are dormant from the start; about a quarter are
  *lapsing*: moderately active at first, then their activity fades to the dormant level.
* ``affluent_investor``: high salary and balances, monthly fund savings plan, ad hoc trades,
  advisor calls, branch visits, more web than mobile.
* ``young_digital``: students and young workers: almost only mobile, many logins, many small
  card payments, small irregular income (part-time pay, parents, friends), no account fee.
* ``new_to_bank``: ``opened_at`` falls inside the scenario (their master data arrives then);
  an onboarding burst of product openings and logins; most switch their salary in after some
  weeks, the others keep us as a secondary account fed from their main bank.

Seasonality for everyone: salaries on the last business day (most), a fixed day (25th-28th)
or the first business day; spending peaks after payday and on Fridays/Saturdays, December
spend is up (gifts, the week before Christmas), summer holidays bring travel spend; monthly
account fees, annual card fees, overdraft fees, savings interest; Christmas and holiday pay.
Amounts are lognormal, daily counts Poisson, and each customer's rates are drawn from
population distributions.

Ground truth (``ground_truth``), per customer: the persona; for customers lost during the
scenario, ``signal_on`` (first day their behaviour departs from their normal: drift start,
first complaint, first day of lapsing) and ``lost_on``, the day the relationship effectively
ended: the final transfer of the balance to another bank, or, for those who leave their money
lying, the day their everyday activity collapsed. ``signal_on <= lost_on`` and both lie inside
the scenario. Bank postings (fees, interest) and a late salary or stray login may still follow
``lost_on``. Everybody else, including the noisy loyal customers, resolved complainers, new
customers who never switch their salary and customers dormant from the start, has both null.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final, TypedDict

from kafka import KafkaProducer

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS
from schemas.common import EARLIEST_EVENT_TIME, Channel
from schemas.inputs import (
    INFLOW_KINDS,
    Customer,
    InteractionKind,
    KycRisk,
    Segment,
    TransactionKind,
)

HOME_BANK: Final = "SIGNALBANK"
"""Our own bank code in ``counterparty_bank`` (internal transfers); matches ``Settings.home_bank``."""
COMPETITOR_BANKS: Final = ("REVOLUT", "N26", "ING", "BUNQ", "TRADE_REPUBLIC", "DKB", "C24")
"""Where drifting customers move their money."""
EMPLOYER_BANKS: Final = ("DEUTSCHE", "COMMERZBANK", "SPARKASSE", "HYPOVEREINS", "BNP", HOME_BANK)
LANDLORD_BANKS: Final = ("SPARKASSE", "VOLKSBANK", "DEUTSCHE", "POSTBANK")
PENSION_PAYER: Final = "DRV_BUND"
_TRANSFER_IN_BANKS: Final = (*LANDLORD_BANKS, *COMPETITOR_BANKS, HOME_BANK)
_CAR_BANKS: Final = ("VOLKSWAGEN_BANK", "BMW_BANK", "SANTANDER", "MERCEDES_BANK")

LOYAL: Final = "loyal_salaried"
DRIFTING: Final = "drifting"
COMPLAINER: Final = "complainer"
DORMANT: Final = "dormant"
AFFLUENT: Final = "affluent_investor"
YOUNG: Final = "young_digital"
NEW: Final = "new_to_bank"
PERSONAS: Final = (LOYAL, DRIFTING, COMPLAINER, DORMANT, AFFLUENT, YOUNG, NEW)
PERSONA_WEIGHTS: Final = (0.50, 0.09, 0.05, 0.11, 0.07, 0.12, 0.06)

JSONL_FILES: Final = {
    TRANSACTIONS: "transactions.jsonl",
    INTERACTIONS: "interactions.jsonl",
    CUSTOMERS: "customers.jsonl",
}

_DAY: Final = 86_400
_WEB: Final = Channel.WEB.value
_POS: Final = Channel.POS.value
_MOBILE: Final = Channel.MOBILE.value
_ATM: Final = Channel.ATM.value
_BRANCH: Final = Channel.BRANCH.value
_CALL: Final = Channel.CALL_CENTRE.value
_CARD: Final = TransactionKind.CARD_PAYMENT.value
_TRANSFER_OUT: Final = TransactionKind.TRANSFER_OUT.value
_TRANSFER_IN: Final = TransactionKind.TRANSFER_IN.value
_SALARY: Final = TransactionKind.SALARY_CREDIT.value
_FEE: Final = TransactionKind.FEE.value
_LOAN: Final = TransactionKind.LOAN_REPAYMENT.value
_LOGIN: Final = InteractionKind.LOGIN.value
_SURVEY: Final = InteractionKind.SURVEY_RESPONSE.value
_COMPLAINT: Final = InteractionKind.COMPLAINT_OPENED.value
_RESOLVED: Final = InteractionKind.COMPLAINT_RESOLVED.value
_OPENED: Final = InteractionKind.PRODUCT_OPENED.value
_CLOSED: Final = InteractionKind.PRODUCT_CLOSED.value
_CURRENCY: Final = "EUR"
_OUTFLOW_KINDS: Final = frozenset(k.value for k in TransactionKind) - {k.value for k in INFLOW_KINDS}

#: Card spend categories: (mcc, median EUR, log sigma, online share, weights) with weights for
#: (regular weekday, regular weekend, young weekday, young weekend, December extra, travel).
_MCCS: Final = (
    ("5411", 38.0, 0.7, 0.02, (30, 26, 14, 12, 0, 18)),  # grocery
    ("5812", 24.0, 0.6, 0.05, (12, 24, 8, 14, 0, 30)),  # restaurants
    ("5814", 8.5, 0.5, 0.05, (12, 8, 26, 20, 0, 8)),  # fast food / coffee
    ("5813", 18.0, 0.6, 0.0, (2, 6, 6, 18, 0, 6)),  # bars
    ("5541", 55.0, 0.4, 0.0, (8, 6, 2, 2, 0, 6)),  # fuel
    ("4111", 3.8, 0.6, 0.3, (10, 4, 16, 8, 0, 8)),  # local transport
    ("5912", 14.0, 0.6, 0.1, (5, 3, 3, 2, 0, 3)),  # pharmacy
    ("5691", 48.0, 0.8, 0.5, (4, 9, 5, 8, 10, 2)),  # clothing
    ("5732", 90.0, 1.0, 0.7, (2, 4, 2, 3, 7, 0)),  # electronics
    ("5945", 30.0, 0.7, 0.5, (1, 2, 0, 0, 10, 0)),  # toys and games
    ("5999", 22.0, 0.9, 0.6, (6, 7, 6, 6, 7, 4)),  # misc retail
    ("5815", 6.0, 0.8, 1.0, (2, 2, 8, 8, 0, 0)),  # digital goods
    ("7832", 13.0, 0.3, 0.4, (1, 5, 3, 6, 0, 0)),  # cinema
    ("7011", 120.0, 0.6, 0.3, (0, 0, 0, 0, 0, 12)),  # hotels
    ("4511", 180.0, 0.6, 1.0, (0, 0, 0, 0, 0, 2)),  # airlines
)
_SUMMER_TRAVEL: Final = 0.15
"""Share of the travel mix in everyone's July/August card spend (holidays not planned per customer)."""


def _cumulative(column: int, season: int) -> tuple[float, ...]:
    """Cumulative category weights: a base column, plus December gifts or summer travel."""
    weights = []
    for *_head, w in _MCCS:
        base = float(w[column])
        if season == 1:
            base += w[4] * (1.0 + column % 2)
        elif season == 2:
            base = base * (1 - _SUMMER_TRAVEL) + w[5] * _SUMMER_TRAVEL * 2
        weights.append(base)
    return tuple(itertools.accumulate(weights))


#: [profile (0 regular, 1 young)][weekend * 3 + season (0 normal, 1 December, 2 summer)]
_MCC_TABLES: Final = tuple(
    tuple(_cumulative(profile * 2 + weekend, season) for weekend in (0, 1) for season in (0, 1, 2))
    for profile in (0, 1)
)
_MCC_AWAY: Final = tuple(itertools.accumulate(float(m[4][5]) for m in _MCCS))

#: Card payment count by weekday (Mon..Sun): spending peaks on Fridays and Saturdays.
_DOW_CARD: Final = (0.92, 0.92, 0.95, 1.0, 1.18, 1.38, 1.0)
_DOW_LOGIN: Final = (1.05, 1.0, 1.0, 1.0, 1.0, 0.95, 1.0)
_MONTH_CARD: Final = (0.9, 0.92, 0.97, 1.0, 1.02, 1.03, 1.06, 1.06, 0.98, 1.0, 1.08, 1.22)
_SUBSCRIPTION_MCCS: Final = (("4899", 11.99), ("4814", 24.99), ("5968", 9.99), ("7997", 29.0))
_PRODUCTS: Final = ("SAVINGS", "CREDIT_CARD", "INVESTMENT_FUND", "CONSUMER_LOAN", "INSURANCE_HOME")
_CARDS: Final = ("CREDIT_CARD", "DEBIT_CARD")
_COMPLAINT_NOTES: Final = (
    "Fee charged twice for the same month",
    "Card blocked abroad without notice",
    "Transfer delayed by a week",
    "App keeps logging me out",
    "Nobody called back as promised",
    "Overdraft interest was not explained",
)
#: NPS answers of ordinary customers: mostly passives and promoters, but some detractors.
_NPS_WEIGHTS: Final = tuple(itertools.accumulate((2, 1, 2, 2, 3, 5, 8, 16, 24, 18, 19)))


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

    def pinned(self) -> Scenario:
        """The same scenario with its start fixed now: the same events whenever it is generated."""
        return replace(self, start=self.resolved_start())

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
    """First day the behaviour departs from normal: drift start, first complaint, lapsing start."""
    lost_on: date | None
    """Day the customer was effectively lost: final balance transfer out, or activity collapsed."""


class ProduceError(RuntimeError):
    """Some messages were not acknowledged by Kafka; ``counts`` holds what was handed over."""

    def __init__(self, message: str, counts: dict[str, int], failed: int) -> None:
        super().__init__(message)
        self.counts = counts
        self.failed = failed


# --------------------------------------------------------------------------- planning


@dataclass(slots=True)
class _Plan:
    """The seeded story of one customer, shared by ``generate`` and ``ground_truth`` (day indices).

    Filled in once by ``_plans`` and only read afterwards.
    """

    index: int
    customer_id: str
    persona: str
    household_id: str | None
    signal_day: int | None = None
    lost_day: int | None = None
    join_day: int | None = None
    """New to bank: the day the account is opened (nothing happens before)."""
    salary_from: int | None = None
    """New to bank: first day a salary may arrive (None: never switched in)."""
    salary_stop: int | None = None
    """No salary, rent or savings order from this day on (moved to the other bank)."""
    drain_days: tuple[int, ...] = ()
    payoff_day: int | None = None
    close_day: int | None = None
    tail_login_days: tuple[int, ...] = ()
    exit_bank: str | None = None
    has_loan: bool = False
    complaint_day: int | None = None
    second_complaint_day: int | None = None
    resolve_hours: float | None = None
    """Hours until the complaint is resolved (None: never within the scenario)."""
    survey_day: int | None = None
    unhappy: bool = False
    holiday: tuple[int, int] | None = None
    employer_gap: tuple[int, int] | None = None
    big_day: int | None = None
    big_house: bool = False


def _customer_id(number: int) -> str:
    return f"C{number:06d}"


def _window(rng: random.Random, days: int, shortest: int, longest: int) -> tuple[int, int]:
    """``(signal, lost)`` inside the scenario, after a baseline of normal behaviour."""
    last = days - 1
    baseline = min(last, max(1, days // 4))
    lost = rng.randint(min(last, max(baseline + 1, int(days * 0.4))), last)
    signal = max(lost - rng.randint(shortest, longest), min(baseline, lost))
    return signal, lost


def _summer_day(rng: random.Random, start: date, days: int) -> int:
    """A day to start a holiday: mostly July/August when the scenario covers them."""
    summer = [d for d in range(days) if (start + timedelta(days=d)).month in (7, 8)]
    if summer and rng.random() < 0.6:
        return rng.choice(summer)
    return rng.randrange(days)


def _add_noise(plan: _Plan, rng: random.Random, start: date, days: int, first: int) -> None:
    """Life events of customers who stay: holiday, employer change, large payment, resolved complaint."""
    persona = plan.persona
    last = days - 1
    if persona in (LOYAL, AFFLUENT, YOUNG) and rng.random() < 0.12:
        begin = _summer_day(rng, start, days)
        length = rng.randint(21, 35) if persona != YOUNG else rng.randint(10, 30)
        plan.holiday = (begin, min(days, begin + length))
    if persona == LOYAL and rng.random() < 0.05:
        begin = rng.randrange(days)
        plan.employer_gap = (begin, begin + rng.randint(28, 45))
    if persona in (LOYAL, AFFLUENT) and rng.random() < 0.04:
        plan.big_day = rng.randint(0, last)
        plan.big_house = rng.random() < 0.4
    if persona in (LOYAL, AFFLUENT, YOUNG, NEW) and rng.random() < 0.05 and first <= last:
        complaint = rng.randint(first, last)
        plan.complaint_day = complaint
        plan.resolve_hours = min(24 * 40.0, rng.lognormvariate(math.log(60), 1.0))
        if rng.random() < 0.6:
            plan.survey_day = min(last, complaint + int(plan.resolve_hours) // 24 + rng.randint(1, 10))
            plan.unhappy = rng.random() < 0.35


def _drifting(plan: _Plan, rng: random.Random, days: int) -> None:
    """Fast (weeks) or slow (months) move to a competitor, ending with the balance drained."""
    slow = rng.random() < 0.4
    signal, lost = _window(rng, days, 45, 120) if slow else _window(rng, days, 10, 32)
    last = days - 1
    steps = rng.randint(3, 6) if slow else rng.randint(2, 4)
    drains = {lost} | {rng.randint(signal + 1, lost) for _ in range(steps - 1) if signal < lost}
    plan.signal_day, plan.lost_day = signal, lost
    plan.drain_days = tuple(sorted(drains))
    plan.salary_stop = min(lost, signal + 1 + int((lost - signal) * rng.uniform(0.05, 0.6)))
    plan.exit_bank = rng.choice(COMPETITOR_BANKS)
    plan.has_loan = rng.random() < 0.3
    if plan.has_loan and rng.random() < 0.5:
        plan.payoff_day = rng.randint(signal, max(signal, lost - 1))
    if rng.random() < 0.6:
        plan.close_day = min(last, max(signal, lost + rng.randint(-3, 14)))
    if lost < last:
        plan.tail_login_days = tuple(sorted(rng.randint(lost + 1, last) for _ in range(rng.randint(0, 3))))


def _complainer(plan: _Plan, rng: random.Random, days: int) -> None:
    """An unanswered complaint, often a second one and a detractor score, then gone."""
    last = days - 1
    signal, lost = _window(rng, days, 7, 45)
    plan.signal_day, plan.lost_day = signal, lost
    plan.complaint_day = signal
    if rng.random() < 0.5 and signal < lost:
        plan.second_complaint_day = min(lost, signal + 1 + int(rng.expovariate(1 / 6)))
    if rng.random() < 0.75:
        plan.survey_day = min(last, signal + rng.randint(3, 15))
        plan.unhappy = True
    if rng.random() < 0.2:  # resolved, but only after they left
        plan.resolve_hours = 24.0 * (lost - signal + rng.randint(1, 20))
    plan.exit_bank = rng.choice(COMPETITOR_BANKS)
    if rng.random() < 0.7:
        plan.drain_days = (lost,)
    if rng.random() < 0.85:
        plan.salary_stop = lost + rng.randint(0, 30)
    if rng.random() < 0.4:
        plan.close_day = min(last, lost + rng.randint(0, 10))
    plan.has_loan = rng.random() < 0.25


def _plans(scenario: Scenario) -> list[_Plan]:
    """Assign personas and households (population RNG) and each customer's story (own RNG)."""
    population = random.Random(f"signalbank-sim:{scenario.seed}:population")
    days = scenario.days
    start = scenario.resolved_start().date()
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
        plan = _Plan(index, _customer_id(number), persona, household)
        first = 0
        if persona == DRIFTING:
            _drifting(plan, rng, days)
        elif persona == COMPLAINER:
            _complainer(plan, rng, days)
        elif persona == DORMANT and rng.random() < 0.25:
            plan.signal_day, plan.lost_day = _window(rng, days, 20, 60)  # lapsing
        elif persona == NEW:
            first = plan.join_day = rng.randint(0, int((days - 1) * 0.7))
            if rng.random() < 0.65:
                plan.salary_from = first + rng.randint(21, 63)
        elif persona in (LOYAL, AFFLUENT):
            plan.has_loan = rng.random() < (0.25 if persona == LOYAL else 0.3)
        if persona not in (DRIFTING, COMPLAINER, DORMANT):
            _add_noise(plan, rng, start, days, first)
        plans.append(plan)
    return plans


def ground_truth(scenario: Scenario) -> dict[str, GroundTruth]:
    """Persona, and for customers lost during the scenario when (no simulation needed)."""
    start = scenario.resolved_start().date()

    def day(offset: int | None) -> date | None:
        return None if offset is None else start + timedelta(days=offset)

    return {
        plan.customer_id: GroundTruth(
            persona=plan.persona, signal_on=day(plan.signal_day), lost_on=day(plan.lost_day)
        )
        for plan in _plans(scenario)
    }


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True, slots=True)
class _Calendar:
    """Per scenario day: what every customer shares (weekday, season, spending multiplier)."""

    dates: tuple[date, ...]
    prefix: tuple[str, ...]
    """``YYYY-MM-DDT``: the date part of ``occurred_at`` as pydantic serializes it."""
    table: tuple[int, ...]
    """Index of the card category table: weekend * 3 + season (0 normal, 1 December, 2 summer)."""
    card: tuple[float, ...]
    login: tuple[float, ...]


def _season_factor(day: date) -> float:
    """Card payment count by weekday and month, with the Christmas peak and holidays."""
    factor = _DOW_CARD[day.weekday()] * _MONTH_CARD[day.month - 1]
    if day.month == 12:
        if 14 <= day.day <= 23:
            factor *= 1.25
        elif day.day in (25, 26):
            factor *= 0.45
    elif day.month == 1 and day.day == 1:
        factor *= 0.4
    return factor


@functools.lru_cache(maxsize=8)
def _calendar(start: date, days: int) -> _Calendar:
    dates = tuple(start + timedelta(days=d) for d in range(days))
    return _Calendar(
        dates=dates,
        prefix=tuple(f"{d.isoformat()}T" for d in dates),
        table=tuple(
            (d.weekday() >= 5) * 3 + (1 if d.month == 12 else 2 if d.month in (7, 8) else 0) for d in dates
        ),
        card=tuple(_season_factor(d) for d in dates),
        login=tuple(_DOW_LOGIN[d.weekday()] for d in dates),
    )


def _last_business_day(year: int, month: int) -> date:
    day = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _first_business_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _month_day(year: int, month: int, dom: int) -> date:
    """Day ``dom`` (1-28) of the month, moved back off weekends like a standing order."""
    day = date(year, month, dom)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


# --------------------------------------------------------------------------- simulation


@dataclass(slots=True)
class _Tx:
    """A transaction to book; the amount may be decided at booking time (guards, drains)."""

    sec: int
    kind: str
    channel: str
    cents: int = 0
    account: int = 1
    counterparty: str | None = None
    mcc: str | None = None
    guarded: bool = False
    """Skip when it would take the account below zero (discretionary spending)."""
    drain: float = 0.0
    """Share of the available balance to move out instead of ``cents``."""
    keep: int = 0
    mirror: int | None = None
    """Internal transfer: also book a ``transfer_in`` on this account of the same customer."""
    overdraft: bool = False
    """Overdraft fee: the amount is a month of interest on the negative balance, if any."""


@dataclass(slots=True)
class _Ix:
    """An interaction to record."""

    sec: int
    kind: str
    channel: str
    product: str | None = None
    score: int | None = None
    reference: str | None = None
    note: str | None = None


def _money(cents: int) -> str:
    """Cents as pydantic serializes a two-place Decimal (``"-0.05"``, ``"1234.50"``)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


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


def _json_str(value: str | None) -> str:
    """A plain token (bank code, product, reference) as JSON; ``json.dumps`` only for free text."""
    return "null" if value is None else f'"{value}"'


def _activity(plan: _Plan, day: int) -> float:
    """Multiplier of everyday activity: the churn stories fade it out."""
    signal, lost = plan.signal_day, plan.lost_day
    if signal is None or lost is None or day < signal:
        return 1.0
    if day > lost:
        return 0.04
    if plan.persona == COMPLAINER:
        return 0.55
    progress = (day - signal + 1) / (lost - signal + 1)
    return 1.0 - 0.9 * progress


@dataclass(slots=True)
class _Counters:
    seq: int = 0
    order: int = 0
    broken: int = 0
    complaints: int = 0


_Item = tuple[int, int, int, SimEvent]


class _CustomerSim:
    """Plays one customer's story day by day, turning it into serialized, sortable events."""

    def __init__(self, plan: _Plan, scenario: Scenario, start: datetime, cal: _Calendar) -> None:
        self.plan = plan
        self.cid = plan.customer_id
        self.key = plan.customer_id.encode()
        self.number = plan.index + 1
        self.days = scenario.days
        self.start = start
        self.start_ts = int(start.timestamp())
        self.start_date = start.date()
        self.cal = cal
        self.account_prefix = f"A{self.number:06d}-"
        self.rng = random.Random(f"signalbank-sim:{scenario.seed}:{self.number}:events")
        self.bad_rng = random.Random(f"signalbank-sim:{scenario.seed}:{self.number}:invalid")
        ratio = scenario.invalid_ratio
        self.bad_p = ratio / (1.0 - ratio)
        self.counters = _Counters()
        self.balances: dict[int, int] = {}
        self.first_day = plan.join_day or 0
        self.complaint_ref: str | None = None
        self._setup()

    # ----------------------------------------------------------------- profile

    def _setup(self) -> None:
        """Draw the customer's rates, amounts and standing orders from population distributions."""
        rng = self.rng
        plan = self.plan
        persona = plan.persona
        mean_age, sd_age = {AFFLUENT: (52, 10), DORMANT: (55, 18)}.get(persona, (44, 15))
        age = min(90.0, max(18.0, rng.gauss(mean_age, sd_age))) if persona != YOUNG else rng.uniform(18, 28)
        self.age_days = int(age * 365.25) + rng.randint(0, 364)
        self.join_sec = _tod(rng, 8, 19)
        self.salary = self.parttime = self.allowance = self.feed = 0
        self.pension = persona in (LOYAL, DRIFTING, COMPLAINER, NEW) and age >= 66
        income = 1000
        if persona == AFFLUENT:
            income = self.salary = _cents(rng, 8000.0, 0.35)
            self.balances[1] = _cents(rng, 40_000.0, 0.5)
            card_rate, login_rate = (
                rng.lognormvariate(math.log(1.5), 0.3),
                rng.lognormvariate(math.log(0.8), 0.5),
            )
            self.mobile_share = rng.uniform(0.3, 0.6)
        elif persona == YOUNG:
            self.parttime = _cents(rng, 900.0, 0.4) if rng.random() < 0.75 else 0
            self.allowance = _cents(rng, 350.0, 0.4) if rng.random() < 0.6 or not self.parttime else 0
            income = max(300_00, self.parttime + self.allowance)
            self.balances[1] = _cents(rng, 300.0, 0.8)
            card_rate, login_rate = (
                rng.lognormvariate(math.log(3.5), 0.3),
                rng.lognormvariate(math.log(2.2), 0.35),
            )
            self.mobile_share = rng.uniform(0.92, 0.995)
        elif persona == DORMANT:
            self.balances[1] = _cents(rng, 400.0, 1.0)
            if plan.lost_day is not None:  # lapsing: moderately active until the fade
                card_rate, login_rate = (
                    rng.lognormvariate(math.log(0.6), 0.4),
                    rng.lognormvariate(math.log(0.3), 0.4),
                )
            else:
                card_rate, login_rate = rng.uniform(0.01, 0.05), rng.uniform(0.01, 0.04)
            self.mobile_share = rng.uniform(0.3, 0.8)
        else:
            income = self.salary = _cents(rng, 1500.0 if self.pension else 2900.0, 0.35)
            self.balances[1] = 0 if persona == NEW else _cents(rng, 2500.0, 0.8)
            age_factor = 1.3 if age < 30 else 0.45 if age >= 66 else 1.0
            card_rate = rng.lognormvariate(math.log(1.3), 0.35)
            login_rate = rng.lognormvariate(math.log(0.5), 0.6) * age_factor
            self.mobile_share = min(0.98, max(0.05, rng.uniform(0.4, 0.95) * (0.6 if age >= 66 else 1.0)))
        self.spend_scale = min(2.5, max(0.45, (income / 300_000) ** 0.6))
        if persona == YOUNG:
            self.spend_scale = 0.4 * rng.lognormvariate(0.0, 0.2)
        self.card_hours = (9.0, 23.5) if persona == YOUNG else (7.5, 21.5)
        self.tables = _MCC_TABLES[persona == YOUNG]
        self.pay_rule = "last"
        if not self.pension:
            u = rng.random()
            self.pay_rule = "last" if u < 0.6 else f"dom:{rng.randint(25, 28)}" if u < 0.9 else "first"
        self.employer_bank = PENSION_PAYER if self.pension else rng.choice(EMPLOYER_BANKS)
        self.old_bank = rng.choice((*COMPETITOR_BANKS, *LANDLORD_BANKS))
        self.switched_employer = False
        if persona == YOUNG:
            self.fee_cents = 0 if rng.random() < 0.85 else 290
        elif persona == AFFLUENT:
            self.fee_cents = rng.choice((0, 1490))
        else:
            self.fee_cents = rng.choices((0, 290, 490, 690, 890), (2, 2, 3, 2, 1))[0]
        self.card_fee: tuple[int, int, int] | None = None
        if rng.random() < (0.15 if persona == YOUNG else 0.45):
            self.card_fee = (rng.randint(1, 12), rng.randint(1, 28), _cents(rng, 40.0, 0.3))
        self.interest_rate = rng.uniform(0.005, 0.03)
        big_cents = 0
        if plan.big_day is not None:
            big_cents = _cents(rng, 40_000.0, 0.4) if plan.big_house else _cents(rng, 22_000.0, 0.35)
        self.big_cents = big_cents
        savings_p = {AFFLUENT: 1.0, DORMANT: 0.0, YOUNG: 0.15}.get(persona, 0.4)
        if rng.random() < savings_p or plan.big_house:
            median = {AFFLUENT: 50_000.0, YOUNG: 400.0}.get(persona, 6000.0)
            self.balances[2] = max(_cents(rng, median, 0.7), round(big_cents * 1.15) if plan.big_house else 0)
        self.save_cents = (
            _cents(rng, self.salary / 100 * 0.08, 0.3) if 2 in self.balances and self.salary else 0
        )
        self.rent = 0
        if persona in (LOYAL, DRIFTING, COMPLAINER, NEW) and rng.random() < 0.45:
            self.rent = round(self.salary * rng.uniform(0.2, 0.35))
        elif persona == YOUNG and rng.random() < 0.4:
            self.rent = _cents(rng, 380.0, 0.3)
        self.rent_bank = rng.choice(LANDLORD_BANKS)
        self.rent_dom = rng.randint(1, 4)
        self.loan = 0
        if plan.has_loan:
            self.loan = _cents(rng, 1600.0, 0.4) if persona == AFFLUENT else _cents(rng, 350.0, 0.5)
        self.loan_left = self.loan * rng.randint(10, 60)
        self.loan_dom = rng.randint(1, 6)
        n_subs = {DORMANT: rng.randint(0, 1), YOUNG: rng.randint(1, 4)}.get(persona, rng.randint(1, 3))
        self.subscriptions = [
            (rng.randint(1, 28), mcc, max(100, round(price * 100 * rng.uniform(0.8, 1.2))))
            for mcc, price in rng.sample(_SUBSCRIPTION_MCCS, n_subs)
        ]
        self.bonus_month, self.bonus = 0, 0.0
        if self.salary and not self.pension and rng.random() < 0.35:
            self.bonus_month, self.bonus = rng.choice((11, 12)), rng.uniform(0.4, 1.0)
        self.holiday_pay = (
            rng.uniform(0.3, 0.6) if self.salary and not self.pension and rng.random() < 0.2 else 0.0
        )
        self.invest = 0
        if persona == AFFLUENT or (persona == YOUNG and rng.random() < 0.15):
            self.invest = _cents(rng, 500.0 if persona == AFFLUENT else 50.0, 0.6)
        self.invest_dom = rng.randint(1, 15)
        if persona == NEW and plan.salary_from is None and rng.random() < 0.8:
            self.feed = _cents(rng, 400.0, 0.6)
        self.monthly: dict[int, list[str]] = {}
        self.paydays: list[int] = []
        self._schedule_months()
        self._rare_table(age)
        self._rates(card_rate, login_rate)
        self.story: dict[int, list[str]] = {}
        self._schedule_story()

    def _schedule_months(self) -> None:
        """Place the monthly bookings (income, standing orders, fees, interest) on day indices."""
        rng = self.rng
        first = self.start_date
        year, month = first.year, first.month
        end = first + timedelta(days=self.days)
        while date(year, month, 1) < end:
            if self.salary:
                if self.pay_rule == "last":
                    payday = _last_business_day(year, month)
                elif self.pay_rule == "first":
                    payday = _first_business_day(year, month)
                else:
                    payday = _month_day(year, month, int(self.pay_rule[4:]))
                self._at(payday, "salary")
                self._at(payday + timedelta(days=rng.randint(0, 2)), "save")
                self.paydays.append((payday - first).days)
            if self.parttime and rng.random() < 0.85:
                self._at(date(year, month, rng.randint(1, 28)), "parttime")
            if self.allowance and rng.random() < 0.85:
                self._at(_month_day(year, month, rng.randint(1, 5)), "allowance")
            if self.feed and rng.random() < 0.8:
                self._at(date(year, month, rng.randint(1, 28)), "feed")
            self._at(_month_day(year, month, self.rent_dom), "rent")
            self._at(_month_day(year, month, self.loan_dom), "loan")
            self._at(_month_day(year, month, 2), "fee")
            if self.card_fee is not None and self.card_fee[0] == month:
                self._at(date(year, month, self.card_fee[1]), "cardfee")
            if self.invest:
                self._at(_month_day(year, month, self.invest_dom), "invest")
            self._at(date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1), "month_end")
            for i, (dom, _mcc, _price) in enumerate(self.subscriptions):
                self._at(date(year, month, dom), f"sub:{i}")
            year, month = year + (month == 12), month % 12 + 1

    def _at(self, day: date, what: str) -> None:
        offset = (day - self.start_date).days
        if self.first_day <= offset < self.days:
            self.monthly.setdefault(offset, []).append(what)

    def _rare_table(self, age: float) -> None:
        """Daily rates of the infrequent doings; one draw per day picks at most one of them."""
        persona = self.plan.persona
        rates: list[tuple[float, str]]
        if persona == DORMANT and self.plan.lost_day is None:
            rates = [(0.02, "withdrawal"), (0.02, "transfer_in"), (0.008, "deposit")]
        elif persona == YOUNG:
            rates = [
                (0.025, "withdrawal"),
                (0.12, "p2p_in"),
                (0.10, "p2p_out"),
                (0.004, "contact_update"),
                (0.003, "survey"),
                (0.002, "call"),
                (0.002, "product_opened"),
            ]
        else:
            older = age >= 66
            rates = [
                (0.09 if older else 0.06, "withdrawal"),
                (0.03, "transfer_in"),
                (0.025, "p2p_out"),
                (0.01, "deposit"),
                (0.01, "call"),
                (0.02 if older else 0.005, "branch_visit"),
                (0.003, "contact_update"),
                (0.003, "product_opened"),
                (0.004, "survey"),
            ]
            if persona == AFFLUENT:
                rates += [(0.08, "investment_buy"), (0.04, "investment_sell"), (0.02, "advisor_call")]
        self.rare_tags = tuple(tag for _rate, tag in rates)
        self.rare_cum = tuple(itertools.accumulate(rate for rate, _tag in rates))

    def _rates(self, card_rate: float, login_rate: float) -> None:
        """Expected card payments and logins per day: calendar, payday cycle, holiday and story."""
        plan = self.plan
        cal = self.cal
        story = plan.signal_day is not None
        self.act = [_activity(plan, d) for d in range(self.days)] if story else None
        paydays = frozenset(self.paydays)
        holiday = plan.holiday or (-1, -1)
        join, salary_from = plan.join_day, plan.salary_from
        card: list[float] = []
        login: list[float] = []
        last_pay = -99
        for d in range(self.days):
            if d in paydays:
                last_pay = d
            since = d - last_pay
            c = card_rate * cal.card[d] * (1.15 if since < 5 else 0.9 if 25 <= since < 40 else 1.0)
            lo = login_rate * cal.login[d] * (1.5 if since <= 1 else 1.0)
            if self.act is not None:
                c *= self.act[d]
                lo *= self.act[d]
            if holiday[0] <= d < holiday[1]:
                c *= 0.8
                lo *= 0.15
            if join is not None:
                lo *= 1.0 + 2.5 * math.exp(-(d - join) / 10)
                c *= 1.0 if salary_from is not None and d >= salary_from else 0.45
            card.append(c)
            login.append(lo)
        self.card_lam = card
        self.login_lam = login

    def _schedule_story(self) -> None:
        """Day -> tags of the scripted moments (onboarding, drift, complaints, life events)."""
        plan = self.plan
        rng = self.rng
        story = self.story

        def add(day: int | None, tag: str) -> None:
            if day is not None and self.first_day <= day < self.days:
                story.setdefault(day, []).append(tag)

        if plan.join_day is not None:
            add(plan.join_day, "join")
            add(plan.join_day + rng.randint(0, 3), "open:DEBIT_CARD")
            if rng.random() < 0.4:
                add(plan.join_day + rng.randint(1, 20), "open:SAVINGS")
            if rng.random() < 0.3:
                add(plan.join_day + rng.randint(3, 30), "open:CREDIT_CARD")
            if rng.random() < 0.5:
                add(plan.join_day + rng.randint(1, 14), "contact")
            if rng.random() < 0.3:
                add(plan.join_day + rng.randint(7, 21), "survey")
        if plan.persona == DRIFTING:
            add(plan.signal_day, "first_move")
        for day in plan.drain_days:
            add(day, "drain")
        add(plan.payoff_day, "payoff")
        add(plan.close_day, "close")
        for day in plan.tail_login_days:
            add(day, "tail_login")
        self.complaint_sec = _tod(rng, 8, 17)
        self.resolve_sec = 0
        add(plan.complaint_day, "complaint")
        add(plan.second_complaint_day, "complaint2")
        if plan.complaint_day is not None and plan.resolve_hours is not None:
            resolved = self.complaint_sec + int(plan.resolve_hours * 3600)
            self.resolve_sec = resolved % _DAY
            add(plan.complaint_day + resolved // _DAY, "resolve")
        add(plan.survey_day, "survey")
        add(plan.big_day, "big")
        if plan.big_day is not None and plan.big_house:
            add(plan.big_day + rng.randint(20, 60), "contact")
        if plan.holiday is not None and rng.random() < 0.7:
            add(plan.holiday[0] - rng.randint(14, 60), "booking")

    # ----------------------------------------------------------------- daily plan

    def _day_ops(self, day: int) -> list[_Tx | _Ix]:
        """Everything this customer does on one day, unsorted, amounts possibly still open."""
        if day < self.first_day:
            return []
        rng = self.rng
        ops: list[_Tx | _Ix] = []
        tags = self.story.get(day)
        if day == self.plan.join_day:
            self._onboarding(ops)
            if tags is not None:
                self._story_ops(day, tags, ops)
            for op in ops:  # nothing before the account exists
                op.sec = max(op.sec, self.join_sec + 5)
            return ops
        monthly = self.monthly.get(day)
        if monthly:
            self._monthly_ops(day, monthly, ops)
        n = _poisson(rng, self.card_lam[day])
        if n:
            holiday = self.plan.holiday
            cum = (
                _MCC_AWAY if holiday and holiday[0] <= day < holiday[1] else self.tables[self.cal.table[day]]
            )
            total = cum[-1]
            lo_h, hi_h = self.card_hours
            scale = self.spend_scale
            for _ in range(n):
                mcc, median, sigma, online, _w = _MCCS[bisect.bisect_right(cum, rng.random() * total)]
                ops.append(
                    _Tx(
                        _tod(rng, lo_h, hi_h),
                        _CARD,
                        _WEB if rng.random() < online else _POS,
                        _cents(rng, median * scale, sigma),
                        mcc=mcc,
                        guarded=True,
                    )
                )
        for _ in range(_poisson(rng, self.login_lam[day])):
            ops.append(_Ix(_tod(rng, 6, 23.5), _LOGIN, _MOBILE if rng.random() < self.mobile_share else _WEB))
        act = 1.0 if self.act is None else self.act[day]
        u = rng.random()
        if u < self.rare_cum[-1] * act:
            self._rare_op(self.rare_tags[bisect.bisect_right(self.rare_cum, u / act)], day, ops)
        if tags is not None:
            self._story_ops(day, tags, ops)
        return ops

    def _onboarding(self, ops: list[_Tx | _Ix]) -> None:
        """New customer's first day: account and card opened, first money in, app set up."""
        rng = self.rng
        sec = self.join_sec
        channel = rng.choices((_MOBILE, _WEB, _BRANCH), (0.6, 0.25, 0.15))[0]
        ops.append(_Ix(sec + 5, _OPENED, channel, product="CURRENT_ACCOUNT"))
        for _ in range(rng.randint(2, 5)):
            sec = min(_DAY - 1, sec + 60 + int(rng.expovariate(1 / 1800)))
            ops.append(_Ix(sec, _LOGIN, _MOBILE if rng.random() < max(0.6, self.mobile_share) else _WEB))
        at = min(_DAY - 1, self.join_sec + 600 + int(rng.expovariate(1 / 7200)))
        ops.append(_Tx(at, _TRANSFER_IN, _WEB, _cents(rng, 1500.0, 0.8), counterparty=self.old_bank))

    def _salary_due(self, day: int) -> bool:
        plan = self.plan
        if plan.salary_stop is not None and day >= plan.salary_stop:
            return False
        if plan.join_day is not None and (plan.salary_from is None or day < plan.salary_from):
            return False
        gap = plan.employer_gap
        return gap is None or not gap[0] <= day < gap[1]

    def _monthly_ops(self, day: int, monthly: list[str], ops: list[_Tx | _Ix]) -> None:
        """Income, standing orders, fees, interest and subscriptions due on this day."""
        rng = self.rng
        plan = self.plan
        due = self._salary_due(day)
        gone = plan.lost_day is not None and day > plan.lost_day
        for what in monthly:
            if what == "salary" and due:
                gap = plan.employer_gap
                if gap is not None and day >= gap[1] and not self.switched_employer:
                    self.switched_employer = True
                    self.employer_bank = rng.choice([b for b in EMPLOYER_BANKS if b != self.employer_bank])
                    self.salary = round(self.salary * rng.lognormvariate(0.05, 0.1))
                factor = rng.lognormvariate(0.0, 0.02)
                month = self.cal.dates[day].month
                if month == self.bonus_month:
                    factor += self.bonus
                elif month == 6:
                    factor += self.holiday_pay
                sec = _tod(rng, 2.4, 5.6)
                ops.append(
                    _Tx(
                        sec,
                        _SALARY,
                        _WEB,
                        max(1, round(self.salary * factor)),
                        counterparty=self.employer_bank,
                    )
                )
            elif what == "save" and self.save_cents and due:
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
            elif what == "rent" and self.rent and due:
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
                sec = _tod(rng, 4, 6)
                if gone and plan.exit_bank is not None:  # the new bank now funds the old loan
                    ops.append(_Tx(sec - 7200, _TRANSFER_IN, _WEB, self.loan, counterparty=plan.exit_bank))
                ops.append(_Tx(sec, _LOAN, _WEB, self.loan))
                self.loan_left -= self.loan
            elif what == "fee" and self.fee_cents:
                ops.append(_Tx(_tod(rng, 1, 2.1), _FEE, _WEB, self.fee_cents))
            elif what == "cardfee" and self.card_fee is not None:
                ops.append(_Tx(_tod(rng, 1, 2.1), _FEE, _WEB, self.card_fee[2]))
            elif what == "month_end":
                ops.append(_Tx(_tod(rng, 22, 23.5), _FEE, _WEB, overdraft=True))
                if self.balances.get(2, 0) > 0:
                    cents = int(self.balances[2] * self.interest_rate / 12)
                    if cents > 0:
                        ops.append(
                            _Tx(
                                _tod(rng, 0.1, 0.9),
                                TransactionKind.INTEREST.value,
                                _WEB,
                                cents,
                                account=2,
                                counterparty=HOME_BANK,
                            )
                        )
            elif what == "invest" and not gone:
                ops.append(
                    _Tx(
                        _tod(rng, 8, 10),
                        TransactionKind.INVESTMENT_BUY.value,
                        _WEB,
                        self.invest,
                        guarded=True,
                    )
                )
            elif what == "parttime":
                cents = _cents(rng, self.parttime / 100, 0.3)
                ops.append(_Tx(_tod(rng, 2.4, 5.6), _SALARY, _WEB, cents, counterparty=self.employer_bank))
            elif what == "allowance":
                cents = max(100, round(self.allowance * rng.uniform(0.8, 1.2) / 100) * 100)
                ops.append(_Tx(_tod(rng, 6, 20), _TRANSFER_IN, _WEB, cents, counterparty=self.old_bank))
            elif what == "feed":
                ops.append(
                    _Tx(
                        _tod(rng, 8, 20),
                        _TRANSFER_IN,
                        _WEB,
                        _cents(rng, self.feed / 100, 0.5),
                        counterparty=self.old_bank,
                    )
                )
            elif what.startswith("sub:") and not gone:
                _dom, mcc, price = self.subscriptions[int(what[4:])]
                ops.append(_Tx(_tod(rng, 1, 5), _CARD, _WEB, price, mcc=mcc, guarded=True))

    def _rare_op(self, tag: str, day: int, ops: list[_Tx | _Ix]) -> None:
        """One infrequent doing (cash, peer transfers, calls, contact changes, trades, surveys)."""
        rng = self.rng
        if tag == "withdrawal":
            cents = max(1000, round(rng.lognormvariate(math.log(90 * self.spend_scale), 0.6) / 10) * 1000)
            ops.append(_Tx(_tod(rng, 7, 21), TransactionKind.WITHDRAWAL.value, _ATM, cents, guarded=True))
            if rng.random() < 0.1:  # foreign ATM
                ops.append(_Tx(_tod(rng, 23.5, 23.9), _FEE, _ATM, _cents(rng, 2.5, 0.3)))
        elif tag == "transfer_in":
            bank = rng.choice(_TRANSFER_IN_BANKS)
            ops.append(_Tx(_tod(rng, 9, 21), _TRANSFER_IN, _WEB, _cents(rng, 60.0, 0.9), counterparty=bank))
        elif tag == "p2p_in":
            bank = rng.choice(_TRANSFER_IN_BANKS)
            ops.append(
                _Tx(_tod(rng, 10, 23), _TRANSFER_IN, _MOBILE, _cents(rng, 20.0, 0.7), counterparty=bank)
            )
        elif tag == "p2p_out":
            channel = _MOBILE if rng.random() < self.mobile_share else _WEB
            bank = rng.choice(_TRANSFER_IN_BANKS)
            median = 20.0 if self.plan.persona == YOUNG else 80.0
            ops.append(
                _Tx(
                    _tod(rng, 10, 23),
                    _TRANSFER_OUT,
                    channel,
                    _cents(rng, median, 0.8),
                    counterparty=bank,
                    guarded=True,
                )
            )
        elif tag == "deposit":
            channel = rng.choice((_ATM, _BRANCH))
            ops.append(_Tx(_tod(rng, 8, 18), TransactionKind.DEPOSIT.value, channel, _cents(rng, 250.0, 0.7)))
        elif tag == "investment_buy":
            cents = _cents(rng, 5000.0, 0.7)
            ops.append(_Tx(_tod(rng, 8, 16), TransactionKind.INVESTMENT_BUY.value, _WEB, cents, guarded=True))
        elif tag == "investment_sell":
            cents = _cents(rng, 6000.0, 0.7)
            ops.append(_Tx(_tod(rng, 8, 16), TransactionKind.INVESTMENT_SELL.value, _WEB, cents))
        elif tag == "advisor_call":
            ops.append(_Ix(_tod(rng, 8, 15), InteractionKind.CALL.value, _CALL, note="advisor call"))
        elif tag == "call":
            ops.append(_Ix(_tod(rng, 8, 16), InteractionKind.CALL.value, _CALL))
        elif tag == "branch_visit":
            ops.append(_Ix(_tod(rng, 9, 16), InteractionKind.BRANCH_VISIT.value, _BRANCH))
        elif tag == "contact_update":
            ops.append(
                _Ix(_tod(rng, 15, 23), InteractionKind.CONTACT_UPDATE.value, rng.choice((_MOBILE, _WEB)))
            )
        elif tag == "product_opened" and (self.plan.signal_day is None or day < self.plan.signal_day):
            channel = rng.choice((_WEB, _MOBILE, _BRANCH))
            ops.append(_Ix(_tod(rng, 10, 22), _OPENED, channel, product=rng.choice(_PRODUCTS)))
        elif tag == "survey" and (self.plan.signal_day is None or day < self.plan.signal_day):
            ops.append(_Ix(_tod(rng, 14, 22), _SURVEY, _WEB, score=self._nps()))

    def _nps(self) -> int:
        return bisect.bisect_right(_NPS_WEIGHTS, self.rng.random() * _NPS_WEIGHTS[-1])

    def _complaint_reference(self) -> str:
        self.counters.complaints += 1
        return f"CMP-{self.number * 100 + self.counters.complaints}"

    def _channel(self) -> str:
        return _MOBILE if self.rng.random() < self.mobile_share else _WEB

    def _story_ops(self, day: int, tags: list[str], ops: list[_Tx | _Ix]) -> None:
        """The scripted moments: onboarding steps, drift, complaints and life events."""
        plan = self.plan
        rng = self.rng
        for tag in tags:
            if tag.startswith("open:"):
                ops.append(_Ix(_tod(rng, 9, 22), _OPENED, self._channel(), product=tag[5:]))
                if tag == "open:SAVINGS":
                    self.balances.setdefault(2, 0)
            elif tag == "contact":
                ops.append(_Ix(_tod(rng, 9, 22), InteractionKind.CONTACT_UPDATE.value, self._channel()))
            elif tag == "first_move":  # a first small transfer to try the new account
                sec = _tod(rng, 17, 23)
                channel = self._channel()
                ops.append(_Ix(max(0, sec - 90), _LOGIN, channel))
                cents = _cents(rng, 50.0, 1.0)
                ops.append(_Tx(sec, _TRANSFER_OUT, channel, cents, counterparty=plan.exit_bank, guarded=True))
            elif tag == "drain":
                self._drain(day, ops)
            elif tag == "payoff" and self.loan:
                sec = _tod(rng, 9, 16)
                left = max(self.loan, self.loan_left)
                ops.append(_Tx(sec - 3600, _TRANSFER_IN, _WEB, left, counterparty=plan.exit_bank))
                ops.append(_Tx(sec, _LOAN, _WEB, left))
                self.loan = 0
            elif tag == "close":
                product = "SAVINGS" if 2 in self.balances else rng.choice(_CARDS)
                ops.append(
                    _Ix(_tod(rng, 8, 20), _CLOSED, rng.choice((_WEB, _BRANCH, _CALL)), product=product)
                )
            elif tag == "tail_login":
                ops.append(_Ix(_tod(rng, 6, 23), _LOGIN, _MOBILE))
            elif tag in ("complaint", "complaint2"):
                sec = self.complaint_sec if tag == "complaint" else _tod(rng, 8, 17)
                channel = rng.choice((_CALL, _CALL, _BRANCH, _WEB))
                if rng.random() < 0.6:
                    ops.append(_Ix(max(0, sec - 1800), InteractionKind.CALL.value, _CALL))
                reference = self._complaint_reference()
                if tag == "complaint":
                    self.complaint_ref = reference
                note = rng.choice(_COMPLAINT_NOTES)
                ops.append(_Ix(sec, _COMPLAINT, channel, reference=reference, note=note))
            elif tag == "resolve" and self.complaint_ref is not None:
                ops.append(_Ix(self.resolve_sec, _RESOLVED, _CALL, reference=self.complaint_ref))
            elif tag == "survey":
                score = self._nps()
                if plan.unhappy:
                    score = rng.randint(0, 4) if plan.persona == COMPLAINER else rng.randint(2, 6)
                ops.append(_Ix(_tod(rng, 14, 22), _SURVEY, _WEB, score=score))
            elif tag == "big":
                self._big_payment(ops)
            elif tag == "booking":
                ops.append(
                    _Tx(_tod(rng, 18, 23), _CARD, _WEB, _cents(rng, 900.0, 0.5), mcc="4722", guarded=True)
                )

    def _drain(self, day: int, ops: list[_Tx | _Ix]) -> None:
        """Move a share of the balance (all of it on ``lost_day``) to the new bank."""
        plan = self.plan
        rng = self.rng
        share = 1.0 if day == plan.lost_day else rng.uniform(0.3, 0.6)
        sec = _tod(rng, 14, 23)
        channel = self._channel()
        ops.append(_Ix(max(0, sec - 60 - int(rng.expovariate(1 / 120))), _LOGIN, channel))
        bank = plan.exit_bank if rng.random() < 0.85 else rng.choice(COMPETITOR_BANKS)
        if 2 in self.balances and (day == plan.drain_days[0]):
            ops.append(_Tx(sec - 1, _TRANSFER_OUT, channel, account=2, counterparty=bank, drain=1.0))
        keep = _cents(rng, 120.0, 0.4)
        ops.append(_Tx(sec, _TRANSFER_OUT, channel, counterparty=bank, drain=share, keep=keep))

    def _big_payment(self, ops: list[_Tx | _Ix]) -> None:
        """A loyal customer's car or house deposit: a large one-off transfer to another bank."""
        rng = self.rng
        sec = _tod(rng, 9, 16)
        channel = self._channel()
        amount = self.big_cents
        ops.append(_Ix(sec - 120, _LOGIN, channel))
        if self.plan.big_house or self.balances.get(2, 0) >= amount:
            needed = min(self.balances.get(2, 0), max(0, amount - max(0, self.balances.get(1, 0)) + 50_000))
            ops.append(
                _Tx(sec - 60, _TRANSFER_OUT, channel, needed, account=2, counterparty=HOME_BANK, mirror=1)
            )
            bank = rng.choice(LANDLORD_BANKS) if self.plan.big_house else rng.choice(_CAR_BANKS)
        else:  # financed: a consumer loan paid out by us
            ops.append(_Ix(sec - 7200, _OPENED, _BRANCH, product="CONSUMER_LOAN"))
            ops.append(_Tx(sec - 3600, _TRANSFER_IN, _WEB, amount, counterparty=HOME_BANK))
            self.loan = self.loan or max(100, amount // 48)
            bank = rng.choice(_CAR_BANKS)
        ops.append(_Tx(sec, _TRANSFER_OUT, channel, amount, counterparty=bank))

    # ----------------------------------------------------------------- booking

    def _book(self, op: _Tx) -> list[tuple[int, str, int, int, str | None]]:
        """Apply a transaction to the running balances; returns the bookings that happened."""
        balance = self.balances.setdefault(op.account, 0)
        cents = op.cents
        if op.drain:
            available = balance - min(op.keep, max(0, balance) // 5)
            cents = available if op.drain >= 1.0 else int(available * op.drain)
        elif op.overdraft:
            cents = -balance * 115 // 1200 if balance < 0 else 0  # 11.5% a year
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
            booked.append((op.mirror, _TRANSFER_IN, cents, mirrored, HOME_BANK))
        return booked

    def _master_data(self, at: datetime) -> Customer:
        rng = self.rng
        persona = self.plan.persona
        age_days = self.age_days
        birth = self.start_date - timedelta(days=age_days)
        if self.plan.join_day is not None:
            opened = at
        else:
            youngest = max(30, age_days - 16 * 365)
            mean_tenure = 3 * 365 if persona == YOUNG else 9 * 365
            tenure = min(youngest, 30 + int(rng.expovariate(1 / mean_tenure)))
            opened = self.start - timedelta(days=tenure, seconds=rng.randint(0, _DAY - 1))
        if persona == AFFLUENT:
            segment = Segment.PRIVATE
        elif age_days < 26 * 365 and rng.random() < (0.7 if persona == YOUNG else 0.4):
            segment = Segment.STUDENT
        elif rng.random() < 0.06:
            segment = Segment.SME
        else:
            segment = Segment.RETAIL
        return Customer(
            event_id=self._event_id(),
            customer_id=self.cid,
            occurred_at=at,
            birth_date=birth,
            opened_at=opened,
            household_id=self.plan.household_id,
            segment=segment,
            marketing_consent=rng.random() < 0.7,
            kyc_risk=rng.choices((KycRisk.LOW, KycRisk.MEDIUM, KycRisk.HIGH), (0.85, 0.12, 0.03))[0],
        )

    def _event_id(self) -> str:
        self.counters.seq += 1
        return f"{self.cid}-{self.counters.seq:06d}"

    def master_item(self) -> _Item:
        """The customer's master-data record, first of all their events (at opening if new)."""
        ts = self.start_ts
        if self.plan.join_day is not None:
            ts += self.plan.join_day * _DAY + self.join_sec
        at = _utc(ts)
        self.counters.order += 1
        value = self._master_data(at).model_dump_json().encode()
        return (ts, self.plan.index, self.counters.order, SimEvent(CUSTOMERS, self.key, value, at, self.cid))

    def day_items(self, day: int) -> list[_Item]:
        """One day of the customer's events as sortable ``(ts, customer index, order, event)``.

        The JSON is written directly, byte for byte what ``model_dump_json`` gives (the tests
        validate every event against the models): pydantic per event would double the run time.
        """
        ops = self._day_ops(day)
        items: list[_Item] = []
        if day == self.plan.join_day:
            items.append(self.master_item())
        if not ops:
            return items
        ops.sort(key=_sec)
        index, cid, key, counters = self.plan.index, self.cid, self.key, self.counters
        bad_p, bad_random = self.bad_p, self.bad_rng.random
        account_prefix = self.account_prefix
        day_ts = self.start_ts + day * _DAY
        prefix = self.cal.prefix[day]
        head = f'{{"event_id":"{cid}-'
        for op in ops:
            sec = op.sec
            ts = day_ts + sec
            at = _utc(ts)
            stamp = f"{prefix}{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z"
            if isinstance(op, _Ix):
                counters.seq += 1
                value = (
                    f'{head}{counters.seq:06d}","customer_id":"{cid}","occurred_at":"{stamp}",'
                    f'"type":"interaction","kind":"{op.kind}","channel":"{op.channel}",'
                    f'"product":{_json_str(op.product)},'
                    f'"score":{"null" if op.score is None else op.score},'
                    f'"reference":{_json_str(op.reference)},'
                    f'"note":{"null" if op.note is None else json.dumps(op.note)}}}'
                ).encode()
                counters.order += 1
                items.append((ts, index, counters.order, SimEvent(INTERACTIONS, key, value, at, cid)))
                if bad_p and bad_random() < bad_p:
                    items.append(self._broken(ts, at))
                continue
            for account, kind, cents, balance, counterparty in self._book(op):
                counters.seq += 1
                value = (
                    f'{head}{counters.seq:06d}","customer_id":"{cid}","occurred_at":"{stamp}",'
                    f'"type":"transaction","account_id":"{account_prefix}{account}","kind":"{kind}",'
                    f'"amount":"{_money(cents)}","currency":"{_CURRENCY}","channel":"{op.channel}",'
                    f'"counterparty_bank":{_json_str(counterparty)},'
                    f'"merchant_category":{_json_str(op.mcc)},"balance_after":"{_money(balance)}"}}'
                ).encode()
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
    cal = _calendar(start.date(), scenario.days)
    sims = [_CustomerSim(plan, scenario, start, cal) for plan in _plans(scenario)]
    for sim in sims:
        if sim.plan.join_day is None:
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
    "NEW",
    "PERSONAS",
    "PERSONA_WEIGHTS",
    "YOUNG",
    "GroundTruth",
    "ProduceError",
    "Scenario",
    "SimEvent",
    "generate",
    "ground_truth",
    "produce",
    "write_jsonl",
]
