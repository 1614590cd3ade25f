"""Who the simulated customers are, and the seeded story each of them lives.

A customer's story (``Plan``: when they drift, complain, lapse, join, go on holiday, ...) is
drawn once from its own random stream, before any event exists: the generator plays it and
the ground truth reads it, so both always agree.

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

"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from streams.sim.banks import COMPETITOR_BANKS
from streams.sim.scenario import Scenario

LOYAL: Final = "loyal_salaried"
DRIFTING: Final = "drifting"
COMPLAINER: Final = "complainer"
DORMANT: Final = "dormant"
AFFLUENT: Final = "affluent_investor"
YOUNG: Final = "young_digital"
NEW: Final = "new_to_bank"
PERSONAS: Final = (LOYAL, DRIFTING, COMPLAINER, DORMANT, AFFLUENT, YOUNG, NEW)
PERSONA_WEIGHTS: Final = (0.50, 0.09, 0.05, 0.11, 0.07, 0.12, 0.06)


@dataclass(slots=True)
class Plan:
    """The seeded story of one customer, shared by ``generate`` and ``ground_truth`` (day indices).

    Filled in once by ``plan_customers`` and only read afterwards.
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


def _add_noise(plan: Plan, rng: random.Random, start: date, days: int, first: int) -> None:
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


def _drifting(plan: Plan, rng: random.Random, days: int) -> None:
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


def _complainer(plan: Plan, rng: random.Random, days: int) -> None:
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


def plan_customers(scenario: Scenario) -> list[Plan]:
    """Assign personas and households (population RNG) and each customer's story (own RNG)."""
    population = random.Random(f"signalbank-sim:{scenario.seed}:population")
    days = scenario.days
    start = scenario.resolved_start().date()
    plans: list[Plan] = []
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
        plan = Plan(index, _customer_id(number), persona, household)
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
