"""One simulated customer's days, played out as serialized, sortable events.

Each day the customer does what their profile and story say: monthly bookings, card payments
and logins (Poisson around the profile's rates), rare doings (cash, peer transfers, calls,
trades, surveys) and the story's scripted moments (onboarding, drift, complaints, life events,
an occasional customer's active days). During a pause only the bank's postings are booked.
Transactions are booked against running balances, so ``balance_after`` is always right and
discretionary spending never overdraws. The JSON is written by hand, byte for byte what the
models' ``model_dump_json`` gives.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS
from schemas.common import Channel
from schemas.inputs import INFLOW_KINDS, Customer, InteractionKind, KycRisk, Segment, TransactionKind
from streams.sim.banks import (
    CAR_BANKS,
    COMPETITOR_BANKS,
    EMPLOYER_BANKS,
    HOME_BANK,
    LANDLORD_BANKS,
    TRANSFER_IN_BANKS,
)
from streams.sim.broken import broken_value
from streams.sim.calendar import DAY_SECONDS, Calendar
from streams.sim.draws import amount_cents, poisson, time_of_day
from streams.sim.event import SimEvent
from streams.sim.fraud import plan_episode
from streams.sim.merchants import MCC_AWAY, MCCS
from streams.sim.origin import NULL_HEAD, NULL_IX_TAIL, NULL_TX_TAIL, Located, Origins
from streams.sim.personas import AFFLUENT, CARD, COMPLAINER, LOGIN, TRANSFER, YOUNG, Plan
from streams.sim.profile import Profile
from streams.sim.scenario import Scenario

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
_UNLOCATED_IX: Final = Located(NULL_HEAD, NULL_IX_TAIL)
_UNLOCATED_TX: Final = Located(NULL_HEAD, NULL_TX_TAIL)
_FRAUD_TX_KINDS: Final = frozenset({_TRANSFER_OUT, _CARD})
_POSTINGS: Final = ("fee", "cardfee", "month_end")
"""Monthly bookings the bank makes whatever the customer does (they go on during a pause)."""


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
    purpose: str = ""
    """Why (for the payee and whether the customer made it): ``standing`` (a standing order, savings
    plan or subscription the bank or merchant executes), ``exit`` (to the customer's own account at
    the new bank), ``big`` (a one-off large payment); empty: the customer's own doing."""


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


def _json_str(value: str | None) -> str:
    """A plain token (bank code, product, reference) as JSON; ``json.dumps`` only for free text."""
    return "null" if value is None else f'"{value}"'


@dataclass(slots=True)
class _Counters:
    seq: int = 0
    order: int = 0
    broken: int = 0
    complaints: int = 0
    typos: int = 0


Item = tuple[int, int, int, SimEvent]
"""``(ts, customer index, order, event)``: sorts into the generator's global order."""


class CustomerSim:
    """Plays one customer's story day by day, turning it into serialized, sortable events.

    Holds what changes as the days are played (balances, salary after an employer change, the
    loan, event counters); what was drawn up front is in ``profile``.
    """

    def __init__(self, plan: Plan, scenario: Scenario, start: datetime, cal: Calendar) -> None:
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
        self.first_day = plan.join_day or 0
        self.complaint_ref: str | None = None
        self.profile = Profile(plan, self.rng, self.days, self.start_date, cal)
        self.balances = dict(self.profile.opening_balances)
        """Running balance in cents per account (1 current, 2 savings)."""
        self.salary = self.profile.salary
        self.employer_bank = self.profile.employer_bank
        self.switched_employer = False
        self.loan = self.profile.loan
        """Monthly loan instalment in cents (0: no loan, or paid off)."""
        self.loan_left = self.profile.loan_left
        origin_rng = random.Random(f"signalbank-sim:{scenario.seed}:{self.number}:origin")
        self.origins = (
            Origins(origin_rng, self.number, self.start_ts, self.days, plan.holiday)
            if scenario.origins
            else None
        )
        """Where and how the customer acts (None: events without the optional origin fields)."""
        self.episode = plan_episode(plan, scenario, self.start_ts)
        """The fraud the customer meets, played as extra events on its days."""

    # ----------------------------------------------------------------- daily plan

    def _day_ops(self, day: int) -> list[_Tx | _Ix]:
        """Everything this customer does on one day, unsorted, amounts possibly still open."""
        if day < self.first_day:
            return []
        rng = self.rng
        ops: list[_Tx | _Ix] = []
        pause = self.plan.pause
        if pause is not None and pause[0] <= day < pause[1]:
            monthly = self.profile.monthly.get(day)
            if monthly:
                self._monthly_ops(day, [what for what in monthly if what in _POSTINGS], ops)
            return ops
        tags = self.profile.story.get(day)
        if day == self.plan.join_day:
            self._onboarding(ops)
            if tags is not None:
                self._story_ops(day, tags, ops)
            for op in ops:  # nothing before the account exists
                op.sec = max(op.sec, self.profile.join_sec + 5)
            return ops
        monthly = self.profile.monthly.get(day)
        if monthly:
            self._monthly_ops(day, monthly, ops)
        n = poisson(rng, self.profile.card_lam[day])
        if n:
            self._card_payments(day, n, ops)
        for _ in range(poisson(rng, self.profile.login_lam[day])):
            ops.append(
                _Ix(
                    time_of_day(rng, 6, 23.5),
                    _LOGIN,
                    _MOBILE if rng.random() < self.profile.mobile_share else _WEB,
                )
            )
        act = 1.0 if self.profile.act is None else self.profile.act[day]
        u = rng.random()
        if u < self.profile.rare_cum[-1] * act:
            self._rare_op(
                self.profile.rare_tags[bisect.bisect_right(self.profile.rare_cum, u / act)], day, ops
            )
        if tags is not None:
            self._story_ops(day, tags, ops)
        return ops

    def _card_payments(self, day: int, n: int, ops: list[_Tx | _Ix]) -> None:
        """``n`` card payments in the categories of the day (travel ones on holiday)."""
        rng = self.rng
        holiday = self.plan.holiday
        cum = (
            MCC_AWAY
            if holiday and holiday[0] <= day < holiday[1]
            else self.profile.tables[self.cal.table[day]]
        )
        total = cum[-1]
        lo_h, hi_h = self.profile.card_hours
        scale = self.profile.spend_scale
        for _ in range(n):
            mcc, median, sigma, online, _w = MCCS[bisect.bisect_right(cum, rng.random() * total)]
            ops.append(
                _Tx(
                    time_of_day(rng, lo_h, hi_h),
                    _CARD,
                    _WEB if rng.random() < online else _POS,
                    amount_cents(rng, median * scale, sigma),
                    mcc=mcc,
                    guarded=True,
                )
            )

    def _session(self, day: int, ops: list[_Tx | _Ix]) -> None:
        """An occasional customer's active day: what their channel allows, at least one event."""
        rng = self.rng
        only = self.plan.only
        if only == CARD:
            self._card_payments(day, 1 + poisson(rng, 1.0), ops)
        elif only == LOGIN:
            for _ in range(1 + poisson(rng, 0.4)):
                ops.append(_Ix(time_of_day(rng, 7, 23), _LOGIN, self._channel()))
        elif only == TRANSFER:
            self._transfers(ops)
        else:
            card = poisson(rng, 1.2)
            if not card or rng.random() < 0.6:
                ops.append(_Ix(time_of_day(rng, 7, 23), _LOGIN, self._channel()))
            self._card_payments(day, card, ops)
            if rng.random() < 0.15:
                self._transfers(ops)

    def _transfers(self, ops: list[_Tx | _Ix]) -> None:
        """Money in from another bank and/or out to one; never more out than half the balance."""
        rng = self.rng
        balance = self.balances.get(1, 0)
        money_in = balance < 300_00 or rng.random() < 0.45
        if money_in:
            cents = amount_cents(rng, 400.0, 0.7)
            ops.append(
                _Tx(time_of_day(rng, 8, 12), _TRANSFER_IN, _WEB, cents, counterparty=self.profile.old_bank)
            )
            balance += cents
        if not money_in or rng.random() < 0.7:
            cents = min(amount_cents(rng, 120.0, 0.8), balance // 2)
            bank = rng.choice(TRANSFER_IN_BANKS)
            ops.append(
                _Tx(
                    time_of_day(rng, 13, 22),
                    _TRANSFER_OUT,
                    self._channel(),
                    cents,
                    counterparty=bank,
                    guarded=True,
                )
            )

    def _comeback(self, day: int, ops: list[_Tx | _Ix]) -> None:
        """The first day after a pause: something of their own, whatever their channel."""
        if self.plan.only == CARD:
            self._card_payments(day, 1, ops)
        elif self.plan.only == TRANSFER:
            self._transfers(ops)
        else:
            ops.append(_Ix(time_of_day(self.rng, 8, 22), _LOGIN, self._channel()))

    def _onboarding(self, ops: list[_Tx | _Ix]) -> None:
        """New customer's first day: account and card opened, first money in, app set up."""
        rng = self.rng
        sec = self.profile.join_sec
        channel = rng.choices((_MOBILE, _WEB, _BRANCH), (0.6, 0.25, 0.15))[0]
        ops.append(_Ix(sec + 5, _OPENED, channel, product="CURRENT_ACCOUNT"))
        for _ in range(rng.randint(2, 5)):
            sec = min(DAY_SECONDS - 1, sec + 60 + int(rng.expovariate(1 / 1800)))
            ops.append(
                _Ix(sec, _LOGIN, _MOBILE if rng.random() < max(0.6, self.profile.mobile_share) else _WEB)
            )
        at = min(DAY_SECONDS - 1, self.profile.join_sec + 600 + int(rng.expovariate(1 / 7200)))
        ops.append(
            _Tx(at, _TRANSFER_IN, _WEB, amount_cents(rng, 1500.0, 0.8), counterparty=self.profile.old_bank)
        )

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
                if month == self.profile.bonus_month:
                    factor += self.profile.bonus
                elif month == 6:
                    factor += self.profile.holiday_pay
                sec = time_of_day(rng, 2.4, 5.6)
                ops.append(
                    _Tx(
                        sec,
                        _SALARY,
                        _WEB,
                        max(1, round(self.salary * factor)),
                        counterparty=self.employer_bank,
                    )
                )
            elif what == "save" and self.profile.save_cents and due:
                cents = max(1, round(self.profile.save_cents * rng.uniform(0.7, 1.3)))
                ops.append(
                    _Tx(
                        time_of_day(rng, 7, 11),
                        _TRANSFER_OUT,
                        _WEB,
                        cents,
                        counterparty=HOME_BANK,
                        guarded=True,
                        mirror=2,
                        purpose="standing",
                    )
                )
            elif what == "rent" and self.profile.rent and due:
                ops.append(
                    _Tx(
                        time_of_day(rng, 5, 7),
                        _TRANSFER_OUT,
                        _WEB,
                        self.profile.rent,
                        counterparty=self.profile.rent_bank,
                        guarded=True,
                        purpose="standing",
                    )
                )
            elif what == "loan" and self.loan:
                sec = time_of_day(rng, 4, 6)
                if gone and plan.exit_bank is not None:  # the new bank now funds the old loan
                    ops.append(_Tx(sec - 7200, _TRANSFER_IN, _WEB, self.loan, counterparty=plan.exit_bank))
                ops.append(_Tx(sec, _LOAN, _WEB, self.loan))
                self.loan_left -= self.loan
            elif what == "fee" and self.profile.fee_cents:
                ops.append(_Tx(time_of_day(rng, 1, 2.1), _FEE, _WEB, self.profile.fee_cents))
            elif what == "cardfee" and self.profile.card_fee is not None:
                ops.append(_Tx(time_of_day(rng, 1, 2.1), _FEE, _WEB, self.profile.card_fee[2]))
            elif what == "month_end":
                ops.append(_Tx(time_of_day(rng, 22, 23.5), _FEE, _WEB, overdraft=True))
                if self.balances.get(2, 0) > 0:
                    cents = int(self.balances[2] * self.profile.interest_rate / 12)
                    if cents > 0:
                        ops.append(
                            _Tx(
                                time_of_day(rng, 0.1, 0.9),
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
                        time_of_day(rng, 8, 10),
                        TransactionKind.INVESTMENT_BUY.value,
                        _WEB,
                        self.profile.invest,
                        guarded=True,
                        purpose="standing",
                    )
                )
            elif what == "parttime":
                cents = amount_cents(rng, self.profile.parttime / 100, 0.3)
                ops.append(
                    _Tx(time_of_day(rng, 2.4, 5.6), _SALARY, _WEB, cents, counterparty=self.employer_bank)
                )
            elif what == "allowance":
                cents = max(100, round(self.profile.allowance * rng.uniform(0.8, 1.2) / 100) * 100)
                ops.append(
                    _Tx(
                        time_of_day(rng, 6, 20), _TRANSFER_IN, _WEB, cents, counterparty=self.profile.old_bank
                    )
                )
            elif what == "feed":
                ops.append(
                    _Tx(
                        time_of_day(rng, 8, 20),
                        _TRANSFER_IN,
                        _WEB,
                        amount_cents(rng, self.profile.feed / 100, 0.5),
                        counterparty=self.profile.old_bank,
                    )
                )
            elif what.startswith("sub:") and not gone:
                _dom, mcc, price = self.profile.subscriptions[int(what[4:])]
                ops.append(
                    _Tx(time_of_day(rng, 1, 5), _CARD, _WEB, price, mcc=mcc, guarded=True, purpose="standing")
                )

    def _rare_op(self, tag: str, day: int, ops: list[_Tx | _Ix]) -> None:
        """One infrequent doing (cash, peer transfers, calls, contact changes, trades, surveys)."""
        rng = self.rng
        if tag == "withdrawal":
            cents = max(
                1000, round(rng.lognormvariate(math.log(90 * self.profile.spend_scale), 0.6) / 10) * 1000
            )
            ops.append(
                _Tx(time_of_day(rng, 7, 21), TransactionKind.WITHDRAWAL.value, _ATM, cents, guarded=True)
            )
            if rng.random() < 0.1:  # foreign ATM
                ops.append(_Tx(time_of_day(rng, 23.5, 23.9), _FEE, _ATM, amount_cents(rng, 2.5, 0.3)))
        elif tag == "transfer_in":
            bank = rng.choice(TRANSFER_IN_BANKS)
            ops.append(
                _Tx(
                    time_of_day(rng, 9, 21),
                    _TRANSFER_IN,
                    _WEB,
                    amount_cents(rng, 60.0, 0.9),
                    counterparty=bank,
                )
            )
        elif tag == "p2p_in":
            bank = rng.choice(TRANSFER_IN_BANKS)
            ops.append(
                _Tx(
                    time_of_day(rng, 10, 23),
                    _TRANSFER_IN,
                    _MOBILE,
                    amount_cents(rng, 20.0, 0.7),
                    counterparty=bank,
                )
            )
        elif tag == "p2p_out":
            channel = _MOBILE if rng.random() < self.profile.mobile_share else _WEB
            bank = rng.choice(TRANSFER_IN_BANKS)
            median = 20.0 if self.plan.persona == YOUNG else 80.0
            ops.append(
                _Tx(
                    time_of_day(rng, 10, 23),
                    _TRANSFER_OUT,
                    channel,
                    amount_cents(rng, median, 0.8),
                    counterparty=bank,
                    guarded=True,
                )
            )
        elif tag == "deposit":
            channel = rng.choice((_ATM, _BRANCH))
            ops.append(
                _Tx(
                    time_of_day(rng, 8, 18),
                    TransactionKind.DEPOSIT.value,
                    channel,
                    amount_cents(rng, 250.0, 0.7),
                )
            )
        elif tag == "investment_buy":
            cents = amount_cents(rng, 5000.0, 0.7)
            ops.append(
                _Tx(time_of_day(rng, 8, 16), TransactionKind.INVESTMENT_BUY.value, _WEB, cents, guarded=True)
            )
        elif tag == "investment_sell":
            cents = amount_cents(rng, 6000.0, 0.7)
            ops.append(_Tx(time_of_day(rng, 8, 16), TransactionKind.INVESTMENT_SELL.value, _WEB, cents))
        elif tag == "advisor_call":
            ops.append(_Ix(time_of_day(rng, 8, 15), InteractionKind.CALL.value, _CALL, note="advisor call"))
        elif tag == "call":
            ops.append(_Ix(time_of_day(rng, 8, 16), InteractionKind.CALL.value, _CALL))
        elif tag == "branch_visit":
            ops.append(_Ix(time_of_day(rng, 9, 16), InteractionKind.BRANCH_VISIT.value, _BRANCH))
        elif tag == "contact_update":
            ops.append(
                _Ix(
                    time_of_day(rng, 15, 23),
                    InteractionKind.CONTACT_UPDATE.value,
                    rng.choice((_MOBILE, _WEB)),
                )
            )
        elif tag == "product_opened" and (self.plan.signal_day is None or day < self.plan.signal_day):
            channel = rng.choice((_WEB, _MOBILE, _BRANCH))
            ops.append(_Ix(time_of_day(rng, 10, 22), _OPENED, channel, product=rng.choice(_PRODUCTS)))
        elif tag == "survey" and (self.plan.signal_day is None or day < self.plan.signal_day):
            ops.append(_Ix(time_of_day(rng, 14, 22), _SURVEY, _WEB, score=self._nps()))

    def _nps(self) -> int:
        return bisect.bisect_right(_NPS_WEIGHTS, self.rng.random() * _NPS_WEIGHTS[-1])

    def _complaint_reference(self) -> str:
        self.counters.complaints += 1
        return f"CMP-{self.number * 100 + self.counters.complaints}"

    def _channel(self) -> str:
        return _MOBILE if self.rng.random() < self.profile.mobile_share else _WEB

    def _story_ops(self, day: int, tags: list[str], ops: list[_Tx | _Ix]) -> None:
        """The scripted moments: onboarding steps, drift, complaints and life events."""
        plan = self.plan
        rng = self.rng
        for tag in tags:
            if tag.startswith("open:"):
                ops.append(_Ix(time_of_day(rng, 9, 22), _OPENED, self._channel(), product=tag[5:]))
                if tag == "open:SAVINGS":
                    self.balances.setdefault(2, 0)
            elif tag == "contact":
                ops.append(
                    _Ix(time_of_day(rng, 9, 22), InteractionKind.CONTACT_UPDATE.value, self._channel())
                )
            elif tag == "first_move":  # a first small transfer to try the new account
                sec = time_of_day(rng, 17, 23)
                channel = self._channel()
                ops.append(_Ix(max(0, sec - 90), _LOGIN, channel))
                cents = amount_cents(rng, 50.0, 1.0)
                ops.append(
                    _Tx(
                        sec,
                        _TRANSFER_OUT,
                        channel,
                        cents,
                        counterparty=plan.exit_bank,
                        guarded=True,
                        purpose="exit",
                    )
                )
            elif tag == "drain":
                self._drain(day, ops)
            elif tag == "payoff" and self.loan:
                sec = time_of_day(rng, 9, 16)
                left = max(self.loan, self.loan_left)
                ops.append(_Tx(sec - 3600, _TRANSFER_IN, _WEB, left, counterparty=plan.exit_bank))
                ops.append(_Tx(sec, _LOAN, _WEB, left))
                self.loan = 0
            elif tag == "close":
                product = "SAVINGS" if 2 in self.balances else rng.choice(_CARDS)
                ops.append(
                    _Ix(time_of_day(rng, 8, 20), _CLOSED, rng.choice((_WEB, _BRANCH, _CALL)), product=product)
                )
            elif tag == "tail_login":
                ops.append(_Ix(time_of_day(rng, 6, 23), _LOGIN, _MOBILE))
            elif tag in ("complaint", "complaint2"):
                sec = self.profile.complaint_sec if tag == "complaint" else time_of_day(rng, 8, 17)
                channel = rng.choice((_CALL, _CALL, _BRANCH, _WEB))
                if rng.random() < 0.6:
                    ops.append(_Ix(max(0, sec - 1800), InteractionKind.CALL.value, _CALL))
                reference = self._complaint_reference()
                if tag == "complaint":
                    self.complaint_ref = reference
                note = rng.choice(_COMPLAINT_NOTES)
                ops.append(_Ix(sec, _COMPLAINT, channel, reference=reference, note=note))
            elif tag == "resolve" and self.complaint_ref is not None:
                ops.append(_Ix(self.profile.resolve_sec, _RESOLVED, _CALL, reference=self.complaint_ref))
            elif tag == "survey":
                score = self._nps()
                if plan.unhappy:
                    score = rng.randint(0, 4) if plan.persona == COMPLAINER else rng.randint(2, 6)
                ops.append(_Ix(time_of_day(rng, 14, 22), _SURVEY, _WEB, score=score))
            elif tag == "session":
                self._session(day, ops)
            elif tag == "back":
                self._comeback(day, ops)
            elif tag == "big":
                self._big_payment(ops)
            elif tag == "booking":
                ops.append(
                    _Tx(
                        time_of_day(rng, 18, 23),
                        _CARD,
                        _WEB,
                        amount_cents(rng, 900.0, 0.5),
                        mcc="4722",
                        guarded=True,
                    )
                )

    def _drain(self, day: int, ops: list[_Tx | _Ix]) -> None:
        """Move a share of the balance (all of it on ``lost_day``) to the new bank."""
        plan = self.plan
        rng = self.rng
        share = 1.0 if day == plan.lost_day else rng.uniform(0.3, 0.6)
        sec = time_of_day(rng, 14, 23)
        channel = self._channel()
        ops.append(_Ix(max(0, sec - 60 - int(rng.expovariate(1 / 120))), _LOGIN, channel))
        bank = plan.exit_bank if rng.random() < 0.85 else rng.choice(COMPETITOR_BANKS)
        if 2 in self.balances and (day == plan.drain_days[0]):
            ops.append(
                _Tx(sec - 1, _TRANSFER_OUT, channel, account=2, counterparty=bank, drain=1.0, purpose="exit")
            )
        keep = amount_cents(rng, 120.0, 0.4)
        ops.append(
            _Tx(sec, _TRANSFER_OUT, channel, counterparty=bank, drain=share, keep=keep, purpose="exit")
        )

    def _big_payment(self, ops: list[_Tx | _Ix]) -> None:
        """A loyal customer's car or house deposit: a large one-off transfer to another bank."""
        rng = self.rng
        sec = time_of_day(rng, 9, 16)
        channel = self._channel()
        amount = self.profile.big_cents
        ops.append(_Ix(sec - 120, _LOGIN, channel))
        if self.plan.big_house or self.balances.get(2, 0) >= amount:
            needed = min(self.balances.get(2, 0), max(0, amount - max(0, self.balances.get(1, 0)) + 50_000))
            ops.append(
                _Tx(sec - 60, _TRANSFER_OUT, channel, needed, account=2, counterparty=HOME_BANK, mirror=1)
            )
            bank = rng.choice(LANDLORD_BANKS) if self.plan.big_house else rng.choice(CAR_BANKS)
        else:  # financed: a consumer loan paid out by us
            ops.append(_Ix(sec - 7200, _OPENED, _BRANCH, product="CONSUMER_LOAN"))
            ops.append(_Tx(sec - 3600, _TRANSFER_IN, _WEB, amount, counterparty=HOME_BANK))
            self.loan = self.loan or max(100, amount // 48)
            bank = rng.choice(CAR_BANKS)
        ops.append(_Tx(sec, _TRANSFER_OUT, channel, amount, counterparty=bank, purpose="big"))

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
        age_days = self.profile.age_days
        birth = self.start_date - timedelta(days=age_days)
        if self.plan.join_day is not None:
            opened = at
        else:
            youngest = max(30, age_days - 16 * 365)
            mean_tenure = 3 * 365 if persona == YOUNG else 9 * 365
            tenure = min(youngest, 30 + int(rng.expovariate(1 / mean_tenure)))
            opened = self.start - timedelta(days=tenure, seconds=rng.randint(0, DAY_SECONDS - 1))
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

    def master_item(self) -> Item:
        """The customer's master-data record, first of all their events (at opening if new)."""
        ts = self.start_ts
        if self.plan.join_day is not None:
            ts += self.plan.join_day * DAY_SECONDS + self.profile.join_sec
        at = _utc(ts)
        self.counters.order += 1
        value = self._master_data(at).model_dump_json().encode()
        return (ts, self.plan.index, self.counters.order, SimEvent(CUSTOMERS, self.key, value, at, self.cid))

    def day_items(self, day: int) -> list[Item]:
        """One day of the customer's events as sortable ``(ts, customer index, order, event)``.

        The JSON is written directly, byte for byte what ``model_dump_json`` gives (the tests
        validate every event against the models): pydantic per event would double the run time.
        """
        ops = self._day_ops(day)
        items: list[Item] = []
        if day == self.plan.join_day:
            items.append(self.master_item())
        if not ops:
            if self.episode is not None:
                items += self._fraud_items(self.start_ts + day * DAY_SECONDS)
            return items
        ops.sort(key=_sec)
        index, cid, key, counters = self.plan.index, self.cid, self.key, self.counters
        bad_p, bad_random = self.bad_p, self.bad_rng.random
        account_prefix = self.account_prefix
        day_ts = self.start_ts + day * DAY_SECONDS
        prefix = self.cal.prefix[day]
        head = f'{{"event_id":"{cid}-'
        origins = self.origins
        for op in ops:
            sec = op.sec
            ts = day_ts + sec
            at = _utc(ts)
            stamp = f"{prefix}{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}Z"
            if isinstance(op, _Ix):
                located = _UNLOCATED_IX if origins is None else origins.interaction(ts, op.kind, op.channel)
                if located.typo:
                    items.append(self._typo(ts, day_ts, op.channel, located.head))
                counters.seq += 1
                value = (
                    f'{head}{counters.seq:06d}","customer_id":"{cid}","occurred_at":"{stamp}",'
                    f"{located.head}"
                    f'"type":"interaction","kind":"{op.kind}","channel":"{op.channel}",'
                    f'"product":{_json_str(op.product)},'
                    f'"score":{"null" if op.score is None else op.score},'
                    f'"reference":{_json_str(op.reference)},'
                    f'"note":{"null" if op.note is None else json.dumps(op.note)}{located.tail}}}'
                ).encode()
                counters.order += 1
                items.append((ts, index, counters.order, SimEvent(INTERACTIONS, key, value, at, cid)))
                if bad_p and bad_random() < bad_p:
                    items.append(self._broken(ts, at))
                continue
            for account, kind, cents, balance, counterparty in self._book(op):
                if origins is None:
                    located = _UNLOCATED_TX
                else:
                    own = None if op.mirror is None else f"{account_prefix}{op.mirror}"
                    located = origins.transaction(
                        ts,
                        kind,
                        op.channel,
                        cents,
                        op.mcc,
                        counterparty,
                        op.purpose if account == op.account else "",
                        own if account == op.account else None,
                    )
                counters.seq += 1
                value = (
                    f'{head}{counters.seq:06d}","customer_id":"{cid}","occurred_at":"{stamp}",'
                    f"{located.head}"
                    f'"type":"transaction","account_id":"{account_prefix}{account}","kind":"{kind}",'
                    f'"amount":"{_money(cents)}","currency":"{_CURRENCY}","channel":"{op.channel}",'
                    f'"counterparty_bank":{_json_str(counterparty)},'
                    f'"merchant_category":{_json_str(op.mcc)},"balance_after":"{_money(balance)}"'
                    f"{located.tail}}}"
                ).encode()
                counters.order += 1
                items.append((ts, index, counters.order, SimEvent(TRANSACTIONS, key, value, at, cid)))
                if bad_p and bad_random() < bad_p:
                    items.append(self._broken(ts, at))
        if self.episode is not None:
            items += self._fraud_items(day_ts)
        return items

    def _typo(self, ts: int, day_ts: int, channel: str, origin: str) -> Item:
        """A mistyped password a few seconds before the login at ``ts`` (an extra event, id ``R``)."""
        self.counters.typos += 1
        self.counters.order += 1
        assert self.origins is not None
        ts = max(day_ts, ts - self.origins.rng.randint(6, 40))
        at = _utc(ts)
        value = (
            f'{{"event_id":"{self.cid}-R{self.counters.typos:05d}","customer_id":"{self.cid}",'
            f'"occurred_at":"{_stamp(ts)}",{origin}"type":"interaction","kind":"{_LOGIN}",'
            f'"channel":"{channel}","product":null,"score":null,"reference":null,"note":null,'
            f'"auth_outcome":"failed"}}'
        ).encode()
        return (
            ts,
            self.plan.index,
            self.counters.order,
            SimEvent(INTERACTIONS, self.key, value, at, self.cid),
        )

    def _fraud_items(self, day_ts: int) -> list[Item]:
        """The fraud episode's events of the day starting at ``day_ts`` (they move no balance)."""
        assert self.episode is not None
        items: list[Item] = []
        for step in self.episode.steps:
            if not day_ts <= step.ts < day_ts + DAY_SECONDS:
                continue
            at = _utc(step.ts)
            stamp = _stamp(step.ts)
            head = f'{{"event_id":"{step.event_id}","customer_id":"{self.cid}","occurred_at":"{stamp}",'
            if step.kind in _FRAUD_TX_KINDS:
                cents = max(step.cents, int(self.balances.get(1, 0) * step.balance_share))
                value = (
                    f'{head}{step.head}"type":"transaction","account_id":"{self.account_prefix}1",'
                    f'"kind":"{step.kind}","amount":"{_money(cents)}","currency":"{_CURRENCY}",'
                    f'"channel":"{step.channel}","counterparty_bank":{_json_str(step.counterparty)},'
                    f'"merchant_category":{_json_str(step.mcc)},"balance_after":null{step.tail}}}'
                )
                topic = TRANSACTIONS
            else:
                value = (
                    f'{head}{step.head}"type":"interaction","kind":"{step.kind}","channel":"{step.channel}",'
                    f'"product":null,"score":null,"reference":null,"note":null{step.tail}}}'
                )
                topic = INTERACTIONS
            self.counters.order += 1
            event = SimEvent(topic, self.key, value.encode(), at, self.cid)
            items.append((step.ts, self.plan.index, self.counters.order, event))
        return items

    def _broken(self, ts: int, at: datetime) -> Item:
        """A broken raw message next to the one just made (same instant, same key)."""
        self.counters.broken += 1
        self.counters.order += 1
        event_id = f"{self.cid}-X{self.counters.broken:05d}"
        value = broken_value(self.bad_rng, event_id, self.cid, f"A{self.number:06d}-1", at)
        event = SimEvent(TRANSACTIONS, self.key, value, at, self.cid, valid=False)
        return (ts, self.plan.index, self.counters.order, event)


def _stamp(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sec(op: _Tx | _Ix) -> int:
    return op.sec


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
