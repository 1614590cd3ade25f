"""Who the simulated customers are, and the seeded story each of them lives.

A customer's story (``Plan``: when they drift, complain, lapse, join, go on holiday, ...) is
drawn once from its own random stream, before any event exists: the generator plays it and
the ground truth reads it, so both always agree.

Personas of the ``bank`` mix (``PERSONA_WEIGHTS``; lost during a 180-day scenario together about
17%: drifting, complainers, lapsing dormant, and the lost slow- and fast-rhythm customers):

* ``loyal_salaried``: salary (or pension) every month, rent and loan standing orders,
  subscriptions, card spend, logins. Noise that makes churn detection honestly hard: a
  month-long holiday with few logins, a change of employer (one salary missing, then a new
  payer and amount), a one-off large transfer out (car or house deposit), a complaint that is
  resolved (sometimes slowly, sometimes with a poor survey score) after which they stay, and
  for a few a pause (below).
* ``drifting``: moves to a competitor, fast (weeks) or slowly (months): a first small transfer
  to the new bank, salary and rent move away, the balance goes out in steps, card spend and
  logins fade, some repay their loan early (refinanced by the new bank), a product is closed,
  then silence with only bank postings and stray logins.
* ``complainer``: a complaint that stays unanswered (a few are resolved too late), often a
  second one and a detractor survey score; then leaves (balance out, or simply stops using us).
* ``dormant``: hardly any activity. Most are dormant from the start; about a quarter are
  *lapsing*: moderately active at first, then their activity fades to the dormant level.
* ``affluent_investor``: high salary and balances, monthly fund savings plan, ad hoc trades,
  advisor calls, branch visits, more web than mobile. A few pause (below).
* ``young_digital``: students and young workers: almost only mobile, many logins, many small
  card payments, small irregular income (part-time pay, parents, friends), no account fee. A
  few pause (below).
* ``new_to_bank``: ``opened_at`` falls inside the scenario (their master data arrives then);
  an onboarding burst of product openings and logins; most switch their salary in after some
  weeks, the others keep us as a secondary account fed from their main bank.

Customers whose own rhythm matters (about 22%; their ``Plan.only`` is the one channel they use:
``card``, ``login`` or ``transfer``, or None for several):

* ``occasional``: no salary, nothing between their active days: a few card payments, a login
  or a transfer every two to six weeks (monthly) or two to four months (quarterly), the gaps
  drawn around their own mean (``streams.sim.rhythms``). Thirty quiet days are normal for them.
  About a third of those whose story fits the scenario are lost: their gaps stretch out, then
  they stop (``signal_on``: the stretching starts; ``lost_on``: their last active day); quarterly
  ones need a scenario of a year or so for it.
* ``card_daily``: card spend on most days and few logins (with a salary), or card spend only, or
  logins only. About a third are lost: activity fades within days to three weeks, then stops;
  seven quiet days already mean something for them.
* ``pauser``: an everyday rhythm, then 30-120 days of complete quiet (a long stay abroad, a
  seasonal worker: no salary, no standing orders, only bank postings), then back to normal. Not
  lost. Loyal, affluent and young customers without a loan pause too, a few percent of them.

The ``card_only`` mix (``Scenario.personas``) has only the rhythm personas, every one paying by
card only, with no bank postings: the shape of a public purchase history (irregular, many buy
rarely; lost: about 45% over 18 months, 28% over 6).

"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from streams.sim.banks import COMPETITOR_BANKS
from streams.sim.rhythms import active_days, draw_rhythm, pause_window, stretch_out
from streams.sim.scenario import Scenario

LOYAL: Final = "loyal_salaried"
DRIFTING: Final = "drifting"
COMPLAINER: Final = "complainer"
DORMANT: Final = "dormant"
AFFLUENT: Final = "affluent_investor"
YOUNG: Final = "young_digital"
NEW: Final = "new_to_bank"
OCCASIONAL: Final = "occasional"
CARD_DAILY: Final = "card_daily"
PAUSER: Final = "pauser"
PERSONAS: Final = (LOYAL, DRIFTING, COMPLAINER, DORMANT, AFFLUENT, YOUNG, NEW, OCCASIONAL, CARD_DAILY, PAUSER)
RHYTHM_PERSONAS: Final = frozenset({OCCASIONAL, CARD_DAILY, PAUSER})
"""Personas whose activity is their own rhythm, not a salaried month (one channel, or several)."""
CARD: Final = "card"
LOGIN: Final = "login"
TRANSFER: Final = "transfer"
"""``Plan.only``: the one channel a single-channel customer uses."""
_BANK_BASE: Final = (0.50, 0.09, 0.05, 0.11, 0.07, 0.12, 0.06)
"""The bank personas' relative mix before the rhythm personas were added."""
PERSONA_WEIGHTS: Final = (*(round(w * 0.78, 4) for w in _BANK_BASE), 0.10, 0.07, 0.05)
"""The ``bank`` mix, per ``PERSONAS``."""


@dataclass(frozen=True, slots=True)
class Mix:
    """A population: how many of each persona, and what the rhythm personas are like in it."""

    weights: tuple[float, ...]
    """Per ``PERSONAS``."""
    card_only: bool = False
    """Every customer pays by card only and the bank books nothing (no fees, no interest)."""
    lost_share: float = 0.33
    """Share of occasional and card-daily customers who are lost (when their story fits the scenario)."""
    quarterly_share: float = 0.35
    """Share of occasional customers whose rhythm is quarterly rather than monthly."""


MIXES: Final = {
    "bank": Mix(PERSONA_WEIGHTS),
    "card_only": Mix(
        tuple({OCCASIONAL: 0.60, CARD_DAILY: 0.25, PAUSER: 0.15}.get(persona, 0.0) for persona in PERSONAS),
        card_only=True,
        lost_share=0.55,
        quarterly_share=0.5,
    ),
}
"""Populations by ``Scenario.personas`` name (``streams.sim.scenario.PERSONA_MIXES``)."""


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
    only: str | None = None
    """Single-channel customers: ``CARD``, ``LOGIN`` or ``TRANSFER`` (None: several channels)."""
    rhythm_days: tuple[int, ...] = ()
    """Occasional: the days they act on (nothing happens on the others)."""
    mean_gap: float = 0.0
    """Occasional: their own mean gap between active days."""
    pause: tuple[int, int] | None = None
    """``[begin, end)``: complete quiet (only bank postings), then back to normal."""
    postings: bool = True
    """False in the card-only mix: no fees, overdraft fees or interest."""


_GOLDEN: Final = (math.sqrt(5.0) - 1.0) / 2.0
"""Step of the persona sequence: the most evenly spread of all (Weyl, golden ratio)."""
_BLOCK: Final = 50


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
    """Life events of customers who stay: holiday, employer change, large payment, complaint, pause."""
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
    # a loan instalment never pauses, nor does the bank's answer to a complaint
    steady = not plan.has_loan and plan.big_day is None and plan.complaint_day is None
    if persona in (LOYAL, AFFLUENT, YOUNG) and rng.random() < 0.03 and steady:
        plan.pause = pause_window(rng, days, 30, 90)  # a long stay abroad, unpaid leave


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


def _only(rng: random.Random, persona: str) -> str | None:
    """The one channel of a single-channel customer, or None for several."""
    if persona == OCCASIONAL:
        return rng.choices((CARD, TRANSFER, LOGIN, None), (0.35, 0.2, 0.15, 0.3))[0]
    if persona == CARD_DAILY:
        return rng.choices((CARD, LOGIN, None), (0.4, 0.2, 0.4))[0]
    return rng.choices((CARD, LOGIN, None), (0.3, 0.15, 0.55))[0]


def _rhythm(plan: Plan, rng: random.Random, mix: Mix, days: int) -> None:
    """Occasional, card-daily and pausing customers: their channel, rhythm and story."""
    only = _only(rng, plan.persona)
    plan.only = CARD if mix.card_only else only
    plan.postings = not mix.card_only
    lost = rng.random() < mix.lost_share
    if plan.persona == OCCASIONAL:
        rhythm = draw_rhythm(rng, rng.random() < mix.quarterly_share)
        plan.mean_gap = rhythm.mean
        normal = active_days(rng, rhythm, days)
        story = stretch_out(rng, rhythm, normal, days) if lost else None
        if story is None:
            plan.rhythm_days = tuple(normal)
        else:
            plan.signal_day, plan.lost_day, plan.rhythm_days = story
    elif plan.persona == CARD_DAILY:
        if lost:
            plan.signal_day, plan.lost_day = _window(rng, days, 3, 21)
            plan.salary_stop = plan.lost_day + 1
    else:
        plan.pause = pause_window(rng, days)


def plan_customers(scenario: Scenario) -> list[Plan]:
    """Assign personas and households (population RNG) and each customer's story (own RNG).

    Personas come from a golden-ratio sequence rather than independent draws, so any population
    has each persona's share within a customer or two of its weight (small test populations have
    all ten personas); the points are shuffled within blocks of ``_BLOCK`` customers so that
    neighbours (households) are not paired by the sequence's fixed step. Customer N's persona
    never depends on how many customers follow.
    """
    mix = MIXES[scenario.personas]
    cumulative = tuple(itertools.accumulate(mix.weights))
    population = random.Random(f"signalbank-sim:{scenario.seed}:population")
    phase = population.random()
    block: list[float] = []
    days = scenario.days
    start = scenario.resolved_start().date()
    plans: list[Plan] = []
    previous_household: str | None = None
    for index in range(scenario.customers):
        number = index + 1
        if index % _BLOCK == 0:
            block = [(phase + (index + i) * _GOLDEN) % 1.0 for i in range(_BLOCK)]
            random.Random(f"signalbank-sim:{scenario.seed}:personas:{index // _BLOCK}").shuffle(block)
        persona = PERSONAS[bisect.bisect_right(cumulative, block[index % _BLOCK] * cumulative[-1])]
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
        elif persona in RHYTHM_PERSONAS:
            _rhythm(plan, rng, mix, days)
        if persona not in (DRIFTING, COMPLAINER, DORMANT) and persona not in RHYTHM_PERSONAS:
            _add_noise(plan, rng, start, days, first)
        plans.append(plan)
    return plans
