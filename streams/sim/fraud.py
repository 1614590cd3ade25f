"""Fraud episodes overlaid on a few customers' lives: account takeover and card fraud.

A small share of the customers (``Scenario.fraud_share`` per 60 days) meets a fraudster once,
after the first quarter of the scenario (the profile has a history to compare with) and before
they are lost:

* ``account_takeover``: someone logs in from a device of their own in a far-away country, often
  after a few failed attempts, mostly changes the contact details (so the customer's phone no
  longer gets the confirmations), and sends one to three large transfers to a new payee at another
  bank, within minutes to a day.
* ``card_fraud``: a stolen or copied card: sometimes a tiny test payment, then a burst of three to
  seven large card payments far away from the customer (at a terminal there, or online from a
  device and IP abroad) in electronics, jewellery and department stores, minutes apart.

An episode is drawn from the customer's own ``fraud`` stream alone, so the truth knows it without a
simulation and the customer's own events do not change. Its events are extra events with ids of
their own (``C000123-F00001``); they do not move the customer's running balances (the bank is
taken to refund them), so their ``balance_after`` is absent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from schemas.common import Channel
from schemas.inputs import AuthMethod, InteractionKind, TransactionKind
from streams.sim.banks import COMPETITOR_BANKS
from streams.sim.calendar import DAY_SECONDS
from streams.sim.draws import amount_cents
from streams.sim.origin import NULL_IX_TAIL, device_token, head_json, ix_tail_json, tx_tail_json
from streams.sim.personas import Plan
from streams.sim.places import FRAUD_PLACES
from streams.sim.scenario import Scenario

ACCOUNT_TAKEOVER: Final = "account_takeover"
CARD_FRAUD: Final = "card_fraud"
FRAUD_KINDS: Final = (ACCOUNT_TAKEOVER, CARD_FRAUD)
_TAKEOVER_SHARE: Final = 0.45
_CARD_MCCS: Final = (("5732", 650.0), ("5944", 900.0), ("5311", 350.0), ("5691", 300.0))
"""What card fraudsters buy: electronics, jewellery, department stores, clothing (median EUR)."""


@dataclass(frozen=True, slots=True)
class FraudStep:
    """One fraudulent event, everything but its amount decided up front."""

    ts: int
    event_id: str
    kind: str
    channel: str
    head: str
    """The origin fields (device, IP country, place, authentication), as JSON."""
    tail: str
    """A transaction's merchant country and payee, or an interaction's login outcome, as JSON."""
    cents: int = 0
    balance_share: float = 0.0
    """A transfer takes at least this share of the current account's balance (or ``cents``)."""
    counterparty: str | None = None
    mcc: str | None = None


@dataclass(frozen=True, slots=True)
class Episode:
    """A customer's fraud episode: its kind, its first instant and its events in time order."""

    customer_id: str
    kind: str
    start_ts: int
    steps: tuple[FraudStep, ...]
    high_value_id: str
    """The first fraudulent high-value event: the first transfer out, or the first large card payment."""


def plan_episode(plan: Plan, scenario: Scenario, start_ts: int) -> Episode | None:
    """The customer's fraud episode, if they meet a fraudster during the scenario."""
    if scenario.fraud_share <= 0.0 or not scenario.origins or scenario.active_share < 1.0:
        return None
    if scenario.personas != "bank":
        return None
    rng = random.Random(f"signalbank-sim:{scenario.seed}:{plan.index + 1}:fraud")
    if rng.random() >= min(1.0, scenario.fraud_share * scenario.days / 60):
        return None
    first = max(-1 if plan.join_day is None else plan.join_day, scenario.days // 4 - 1) + 1
    last = (plan.lost_day - 1) if plan.lost_day is not None else scenario.days - 2
    if last < first:
        return None
    day = rng.randint(first, last)
    ids = _Ids(plan.customer_id)
    if rng.random() < _TAKEOVER_SHARE:
        return _takeover(rng, plan.customer_id, start_ts + day * DAY_SECONDS, ids)
    return _card_fraud(rng, plan.customer_id, start_ts + day * DAY_SECONDS, ids)


class _Ids:
    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"{self.customer_id}-F{self.n:05d}"


def _hour(rng: random.Random) -> float:
    """Fraudsters act at night or in the evening, the customer's time (mostly)."""
    return rng.choice((rng.uniform(0.5, 6.0), rng.uniform(19.0, 23.5), rng.uniform(9.0, 18.0)))


def _takeover(rng: random.Random, customer_id: str, day_ts: int, ids: _Ids) -> Episode:
    place = rng.choice(FRAUD_PLACES)
    channel = rng.choice((Channel.WEB.value, Channel.MOBILE.value))
    device = device_token(rng, "web" if channel == Channel.WEB.value else "app")
    ts = day_ts + int(_hour(rng) * 3600)
    start = ts
    steps: list[FraudStep] = []
    login = InteractionKind.LOGIN.value
    password = AuthMethod.PASSWORD.value
    head = head_json(device, place.country, place, password, coordinates=False)
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 4)):
            steps.append(FraudStep(ts, ids.next(), login, channel, head, ix_tail_json("failed")))
            ts += rng.randint(15, 90)
    steps.append(FraudStep(ts, ids.next(), login, channel, head, ix_tail_json("success")))
    otp = head_json(device, place.country, place, AuthMethod.OTP.value, coordinates=False)
    if rng.random() < 0.8:
        ts += rng.randint(60, 600)
        contact = InteractionKind.CONTACT_UPDATE.value
        steps.append(FraudStep(ts, ids.next(), contact, channel, otp, NULL_IX_TAIL))
    if rng.random() < 0.3:  # comes back the next day, once the new contact details hold
        ts += DAY_SECONDS // 2 + rng.randint(0, DAY_SECONDS // 2)
        steps.append(FraudStep(ts, ids.next(), login, channel, head, ix_tail_json("success")))
    bank = rng.choice(COMPETITOR_BANKS)
    payee = f"PY-{rng.getrandbits(40):010x}"
    transfers = 1 + (rng.random() < 0.5) + (rng.random() < 0.2)
    share = rng.uniform(0.5, 0.8)
    high_value = ""
    for n in range(transfers):
        ts += rng.randint(120, 2400) if n == 0 else rng.randint(600, 5400)
        event_id = ids.next()
        high_value = high_value or event_id
        steps.append(
            FraudStep(
                ts,
                event_id,
                TransactionKind.TRANSFER_OUT.value,
                channel,
                otp,
                tx_tail_json(None, payee),
                cents=amount_cents(rng, 2500.0 if n == 0 else 1500.0, 0.5),
                balance_share=share if n == 0 else share / 2,
                counterparty=bank,
            )
        )
    return Episode(customer_id, ACCOUNT_TAKEOVER, start, tuple(steps), high_value)


def _card_fraud(rng: random.Random, customer_id: str, day_ts: int, ids: _Ids) -> Episode:
    place = rng.choice(FRAUD_PLACES)
    online = rng.random() < 0.5
    device = device_token(rng, "web") if online else None
    ts = day_ts + int(_hour(rng) * 3600)
    start = ts
    steps: list[FraudStep] = []
    card = TransactionKind.CARD_PAYMENT.value
    channel = Channel.WEB.value if online else Channel.POS.value

    def head(auth: str) -> str:
        if online:
            return head_json(device, place.country, place, auth, coordinates=False)
        jitter = (rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05))
        return head_json(None, None, place, auth, coordinates=True, jitter=jitter)

    tail = tx_tail_json(place.country, None)
    if rng.random() < 0.5:  # does the card work?
        cents = rng.randint(100, 500)
        steps.append(
            FraudStep(ts, ids.next(), card, channel, head(AuthMethod.NONE.value), tail, cents, mcc="5999")
        )
        ts += rng.randint(60, 900)
    high_value = ""
    for _ in range(rng.randint(3, 7)):
        mcc, median = rng.choice(_CARD_MCCS)
        cents = max(100_00, amount_cents(rng, median, 0.5))
        auth = AuthMethod.OTP.value if online else AuthMethod.PASSWORD.value
        event_id = ids.next()
        high_value = high_value or event_id
        steps.append(FraudStep(ts, event_id, card, channel, head(auth), tail, cents, mcc=mcc))
        ts += rng.randint(90, 1500)
    return Episode(customer_id, CARD_FRAUD, start, tuple(steps), high_value)
