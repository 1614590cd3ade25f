"""What one simulated customer is like, drawn once before their first day is played.

Rates, amounts and standing orders come from population distributions by persona (amounts
lognormal, so no two customers are alike): income and its payday rule, balances, rent, loan,
subscriptions, fees, savings and investment plans, Christmas and holiday pay, how often they pay
by card and log in. The profile also places the monthly bookings (income, standing orders,
account and card fees, overdraft fees, savings interest) and the story's scripted moments on
day indices, and fixes the expected card payments and logins per day: the calendar, the payday
cycle (spend peaks after payday), a holiday and the story's fading activity. Customers without
income (occasional, card-only, login-only) start with a balance that covers what they will spend.
"""

from __future__ import annotations

import itertools
import math
import random
from datetime import date, timedelta

from streams.sim.banks import COMPETITOR_BANKS, EMPLOYER_BANKS, LANDLORD_BANKS, PENSION_PAYER
from streams.sim.calendar import (
    DAY_SECONDS,
    Calendar,
    first_business_day,
    last_business_day,
    month_end,
    standing_order_day,
)
from streams.sim.draws import amount_cents, time_of_day
from streams.sim.merchants import MCC_TABLES, SUBSCRIPTION_MCCS
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
    RHYTHM_PERSONAS,
    YOUNG,
    Plan,
)

_CARD_FUNDS_EUR = 60.0
"""Opening balance per expected card payment of customers without income (the mean payment is lower)."""


def activity(plan: Plan, day: int) -> float:
    """Multiplier of everyday activity: the churn stories fade it out."""
    signal, lost = plan.signal_day, plan.lost_day
    if signal is None or lost is None or day < signal:
        return 1.0
    if day > lost:
        return 0.0 if plan.persona in RHYTHM_PERSONAS else 0.04
    if plan.persona == COMPLAINER:
        return 0.55
    progress = (day - signal + 1) / (lost - signal + 1)
    return 1.0 - 0.9 * progress


class Profile:
    """One customer's drawn rates, amounts and schedules; only read once drawn.

    Draws from the customer's event stream ``rng``, which the daily play then continues.
    """

    def __init__(self, plan: Plan, rng: random.Random, days: int, start_date: date, cal: Calendar) -> None:
        self.plan = plan
        self.days = days
        self.start_date = start_date
        self.cal = cal
        self.first_day = plan.join_day or 0
        self.opening_balances: dict[int, int] = {}
        """Account (1 current, 2 savings) -> balance in cents before the first day."""
        self._draw(rng)

    def _draw(self, rng: random.Random) -> None:
        """Draw the customer's rates, amounts and standing orders from population distributions."""
        plan = self.plan
        persona = plan.persona
        mean_age, sd_age = {AFFLUENT: (52, 10), DORMANT: (55, 18)}.get(persona, (44, 15))
        age = min(90.0, max(18.0, rng.gauss(mean_age, sd_age))) if persona != YOUNG else rng.uniform(18, 28)
        self.age_days = int(age * 365.25) + rng.randint(0, 364)
        self.join_sec = time_of_day(rng, 8, 19)
        self.salary = self.parttime = self.allowance = self.feed = 0
        self.pension = persona in (LOYAL, DRIFTING, COMPLAINER, NEW) and age >= 66
        income = 1000
        if persona == AFFLUENT:
            income = self.salary = amount_cents(rng, 8000.0, 0.35)
            self.opening_balances[1] = amount_cents(rng, 40_000.0, 0.5)
            card_rate, login_rate = (
                rng.lognormvariate(math.log(1.5), 0.3),
                rng.lognormvariate(math.log(0.8), 0.5),
            )
            self.mobile_share = rng.uniform(0.3, 0.6)
        elif persona == YOUNG:
            self.parttime = amount_cents(rng, 900.0, 0.4) if rng.random() < 0.75 else 0
            self.allowance = amount_cents(rng, 350.0, 0.4) if rng.random() < 0.6 or not self.parttime else 0
            income = max(300_00, self.parttime + self.allowance)
            self.opening_balances[1] = amount_cents(rng, 300.0, 0.8)
            card_rate, login_rate = (
                rng.lognormvariate(math.log(3.5), 0.3),
                rng.lognormvariate(math.log(2.2), 0.35),
            )
            self.mobile_share = rng.uniform(0.92, 0.995)
        elif persona == DORMANT:
            self.opening_balances[1] = amount_cents(rng, 400.0, 1.0)
            if plan.lost_day is not None:  # lapsing: moderately active until the fade
                card_rate, login_rate = (
                    rng.lognormvariate(math.log(0.6), 0.4),
                    rng.lognormvariate(math.log(0.3), 0.4),
                )
            else:
                card_rate, login_rate = rng.uniform(0.01, 0.05), rng.uniform(0.01, 0.04)
            self.mobile_share = rng.uniform(0.3, 0.8)
        elif persona in RHYTHM_PERSONAS:
            card_rate, login_rate = self._rhythm_rates(rng)
            if card_rate and plan.only is None:  # an everyday rhythm with a salary
                income = self.salary = amount_cents(rng, 2400.0, 0.4)
            self.mobile_share = rng.uniform(0.5, 0.97)
        else:
            income = self.salary = amount_cents(rng, 1500.0 if self.pension else 2900.0, 0.35)
            self.opening_balances[1] = 0 if persona == NEW else amount_cents(rng, 2500.0, 0.8)
            age_factor = 1.3 if age < 30 else 0.45 if age >= 66 else 1.0
            card_rate = rng.lognormvariate(math.log(1.3), 0.35)
            login_rate = rng.lognormvariate(math.log(0.5), 0.6) * age_factor
            self.mobile_share = min(0.98, max(0.05, rng.uniform(0.4, 0.95) * (0.6 if age >= 66 else 1.0)))
        self.spend_scale = min(2.5, max(0.45, (income / 300_000) ** 0.6))
        if persona == YOUNG:
            self.spend_scale = 0.4 * rng.lognormvariate(0.0, 0.2)
        elif persona in RHYTHM_PERSONAS:
            self.spend_scale = min(2.0, max(0.4, rng.lognormvariate(0.0, 0.35)))
            self.opening_balances[1] = self._rhythm_balance(rng, card_rate)
        self.card_hours = (9.0, 23.5) if persona == YOUNG else (7.5, 21.5)
        self.tables = MCC_TABLES[persona == YOUNG]
        self.pay_rule = "last"
        if not self.pension:
            u = rng.random()
            self.pay_rule = "last" if u < 0.6 else f"dom:{rng.randint(25, 28)}" if u < 0.9 else "first"
        self.employer_bank = PENSION_PAYER if self.pension else rng.choice(EMPLOYER_BANKS)
        self.old_bank = rng.choice((*COMPETITOR_BANKS, *LANDLORD_BANKS))
        if persona == YOUNG:
            self.fee_cents = 0 if rng.random() < 0.85 else 290
        elif persona == AFFLUENT:
            self.fee_cents = rng.choice((0, 1490))
        else:
            self.fee_cents = rng.choices((0, 290, 490, 690, 890), (2, 2, 3, 2, 1))[0]
        self.card_fee: tuple[int, int, int] | None = None
        if rng.random() < (0.15 if persona == YOUNG else 0.45):
            self.card_fee = (rng.randint(1, 12), rng.randint(1, 28), amount_cents(rng, 40.0, 0.3))
        if not plan.postings:
            self.fee_cents, self.card_fee = 0, None
        self.interest_rate = rng.uniform(0.005, 0.03)
        big_cents = 0
        if plan.big_day is not None:
            big_cents = (
                amount_cents(rng, 40_000.0, 0.4) if plan.big_house else amount_cents(rng, 22_000.0, 0.35)
            )
        self.big_cents = big_cents
        savings_p = {AFFLUENT: 1.0, DORMANT: 0.0, YOUNG: 0.15}.get(persona, 0.4)
        if persona in RHYTHM_PERSONAS:
            savings_p = 0.0
        if rng.random() < savings_p or plan.big_house:
            median = {AFFLUENT: 50_000.0, YOUNG: 400.0}.get(persona, 6000.0)
            self.opening_balances[2] = max(
                amount_cents(rng, median, 0.7), round(big_cents * 1.15) if plan.big_house else 0
            )
        self.save_cents = (
            amount_cents(rng, self.salary / 100 * 0.08, 0.3)
            if 2 in self.opening_balances and self.salary
            else 0
        )
        self.rent = 0
        if persona in (LOYAL, DRIFTING, COMPLAINER, NEW) and rng.random() < 0.45:
            self.rent = round(self.salary * rng.uniform(0.2, 0.35))
        elif persona == YOUNG and rng.random() < 0.4:
            self.rent = amount_cents(rng, 380.0, 0.3)
        self.rent_bank = rng.choice(LANDLORD_BANKS)
        self.rent_dom = rng.randint(1, 4)
        self.loan = 0
        if plan.has_loan:
            self.loan = (
                amount_cents(rng, 1600.0, 0.4) if persona == AFFLUENT else amount_cents(rng, 350.0, 0.5)
            )
        self.loan_left = self.loan * rng.randint(10, 60)
        self.loan_dom = rng.randint(1, 6)
        n_subs = {DORMANT: rng.randint(0, 1), YOUNG: rng.randint(1, 4)}.get(persona, rng.randint(1, 3))
        if persona in RHYTHM_PERSONAS:
            n_subs = 0  # a monthly card debit would be a rhythm of its own
        self.subscriptions = [
            (rng.randint(1, 28), mcc, max(100, round(price * 100 * rng.uniform(0.8, 1.2))))
            for mcc, price in rng.sample(SUBSCRIPTION_MCCS, n_subs)
        ]
        self.bonus_month, self.bonus = 0, 0.0
        if self.salary and not self.pension and rng.random() < 0.35:
            self.bonus_month, self.bonus = rng.choice((11, 12)), rng.uniform(0.4, 1.0)
        self.holiday_pay = (
            rng.uniform(0.3, 0.6) if self.salary and not self.pension and rng.random() < 0.2 else 0.0
        )
        self.invest = 0
        if persona == AFFLUENT or (persona == YOUNG and rng.random() < 0.15):
            self.invest = amount_cents(rng, 500.0 if persona == AFFLUENT else 50.0, 0.6)
        self.invest_dom = rng.randint(1, 15)
        if persona == NEW and plan.salary_from is None and rng.random() < 0.8:
            self.feed = amount_cents(rng, 400.0, 0.6)
        self.monthly: dict[int, list[str]] = {}
        self.paydays: list[int] = []
        self._schedule_months(rng)
        self._rare_table(age)
        self._rates(card_rate, login_rate)
        self.story: dict[int, list[str]] = {}
        self._schedule_story(rng)

    def _schedule_months(self, rng: random.Random) -> None:
        """Place the monthly bookings (income, standing orders, fees, interest) on day indices."""
        first = self.start_date
        year, month = first.year, first.month
        end = first + timedelta(days=self.days)
        while date(year, month, 1) < end:
            if self.salary:
                if self.pay_rule == "last":
                    payday = last_business_day(year, month)
                elif self.pay_rule == "first":
                    payday = first_business_day(year, month)
                else:
                    payday = standing_order_day(year, month, int(self.pay_rule[4:]))
                self._at(payday, "salary")
                self._at(payday + timedelta(days=rng.randint(0, 2)), "save")
                self.paydays.append((payday - first).days)
            if self.parttime and rng.random() < 0.85:
                self._at(date(year, month, rng.randint(1, 28)), "parttime")
            if self.allowance and rng.random() < 0.85:
                self._at(standing_order_day(year, month, rng.randint(1, 5)), "allowance")
            if self.feed and rng.random() < 0.8:
                self._at(date(year, month, rng.randint(1, 28)), "feed")
            self._at(standing_order_day(year, month, self.rent_dom), "rent")
            self._at(standing_order_day(year, month, self.loan_dom), "loan")
            self._at(standing_order_day(year, month, 2), "fee")
            if self.card_fee is not None and self.card_fee[0] == month:
                self._at(date(year, month, self.card_fee[1]), "cardfee")
            if self.invest:
                self._at(standing_order_day(year, month, self.invest_dom), "invest")
            if self.plan.postings:
                self._at(month_end(year, month), "month_end")
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
        if persona in RHYTHM_PERSONAS:
            rates = []  # their rhythm is all they do
            if persona != OCCASIONAL and self.plan.only is None:
                rates = [(0.03, "withdrawal"), (0.02, "p2p_out"), (0.005, "call"), (0.003, "contact_update")]
        elif persona == DORMANT and self.plan.lost_day is None:
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
        rates = rates or [(0.0, "withdrawal")]
        self.rare_tags = tuple(tag for _rate, tag in rates)
        self.rare_cum = tuple(itertools.accumulate(rate for rate, _tag in rates))

    def _rhythm_rates(self, rng: random.Random) -> tuple[float, float]:
        """Card payments and logins per day of the rhythm personas (occasional: none, they have days)."""
        plan = self.plan
        if plan.persona == OCCASIONAL:
            return 0.0, 0.0
        daily = plan.persona == CARD_DAILY
        card = rng.lognormvariate(math.log(2.2 if daily else 1.1), 0.3)
        login = rng.lognormvariate(math.log(0.12 if daily else 0.4), 0.5)
        if plan.only == CARD:
            return card, 0.0
        if plan.only == LOGIN:
            return 0.0, rng.lognormvariate(math.log(1.3 if daily else 0.6), 0.35)
        return card, login

    def _rhythm_balance(self, rng: random.Random, card_rate: float) -> int:
        """Opening balance in cents: enough for the card spend until their income, if any, pays for it.

        A salaried one's salary is raised to their month of spend if it falls short: their card
        spend is their rhythm, and a guard refusing payments for want of money would fake a lapse.
        """
        cushion = amount_cents(rng, 800.0, 0.8)
        per_payment = _CARD_FUNDS_EUR * 100 * self.spend_scale
        if self.salary:
            month = int(card_rate * 31 * per_payment)
            self.salary = max(self.salary, month)
            return cushion + month
        payments = card_rate * self.days
        if self.plan.persona == OCCASIONAL and self.plan.only in (CARD, None):
            payments = 2.5 * len(self.plan.rhythm_days)
        return cushion + int(payments * per_payment)

    def _rates(self, card_rate: float, login_rate: float) -> None:
        """Expected card payments and logins per day: calendar, payday cycle, holiday and story."""
        plan = self.plan
        cal = self.cal
        story = plan.signal_day is not None
        self.act = [activity(plan, d) for d in range(self.days)] if story else None
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

    def _schedule_story(self, rng: random.Random) -> None:
        """Day -> tags of the scripted moments (onboarding, drift, complaints, life events)."""
        plan = self.plan
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
        self.complaint_sec = time_of_day(rng, 8, 17)
        self.resolve_sec = 0
        add(plan.complaint_day, "complaint")
        add(plan.second_complaint_day, "complaint2")
        if plan.complaint_day is not None and plan.resolve_hours is not None:
            resolved = self.complaint_sec + int(plan.resolve_hours * 3600)
            self.resolve_sec = resolved % DAY_SECONDS
            add(plan.complaint_day + resolved // DAY_SECONDS, "resolve")
        add(plan.survey_day, "survey")
        for day in plan.rhythm_days:
            add(day, "session")
        if plan.pause is not None:
            add(plan.pause[1], "back")
        add(plan.big_day, "big")
        if plan.big_day is not None and plan.big_house:
            add(plan.big_day + rng.randint(20, 60), "contact")
        if plan.holiday is not None and rng.random() < 0.7:
            add(plan.holiday[0] - rng.randint(14, 60), "booking")
