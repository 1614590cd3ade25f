"""Translate one validated input event into the update the Redis script applies.

Pure functions: no I/O, so the mapping from banking events to profile metrics is easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from schemas.common import Channel
from schemas.inputs import (
    INFLOW_KINDS,
    AuthOutcome,
    Customer,
    InputEvent,
    Interaction,
    InteractionKind,
    Transaction,
    TransactionKind,
)
from schemas.profile.behaviour import BEHAVIOUR_OP, observe
from schemas.profile.shape import METRIC_COUNT, Metric

MS_PER_DAY = 86_400_000

#: (op, field, value): "mx"/"mn" keep the max/min number, "sn" keeps the newest value by event time,
#: "rn" extends a run of days ("day,gap" -> "start,last,count"; a pause longer than gap starts anew),
#: "ab" keeps an account's balance (field: the account id, value: cents; ``ACCOUNT_OP``), "bh" adds
#: an observation to the customer's behaviour (value: ``behaviour.Observation.text``; ``BEHAVIOUR_OP``).
Op = tuple[str, str, str]

#: The operation of a reported balance: the store keeps each account's newest balance by event time
#: (at most ``MAX_ACCOUNTS``) and counts the total of all of them into the balance metrics, where this
#: update's ``BALANCE_SUM`` holds the account's balance alone (sinks/redis/profile_state.py).
ACCOUNT_OP = "ab"
#: Accounts whose latest balance a profile keeps; beyond this, the one updated longest ago (by event
#: time) is forgotten and leaves the total: a bank customer rarely has more, and a profile stays small.
MAX_ACCOUNTS = 8
#: Prefix of the state fields holding an account's balance: ``a:<account id>`` -> "ts|cents".
ACCOUNT_PREFIX = "a:"


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    """Everything the store needs to apply one event idempotently."""

    customer_id: str
    event_id: str
    ts_ms: int
    increments: tuple[int, ...]
    ops: tuple[Op, ...]
    position: str = ""  # where it was read: "code:partition:offset" (``kafka_position``), or ""

    @property
    def day(self) -> int:
        """Event-time day number (days since the Unix epoch, UTC): the event's own bucket."""
        return self.ts_ms // MS_PER_DAY


def to_cents(amount: Decimal) -> int:
    """Cents of an amount already in the reporting currency (agents/decode.py converted it)."""
    return int((amount * 100).to_integral_value())


def event_millis(event: InputEvent) -> int:
    return int(event.occurred_at.timestamp() * 1000)


#: A payee bank not paid for this many days counts as new again when paid (the "rn" run operation).
NEW_PAYEE_GAP_DAYS = 60

#: Bank-initiated postings: they say nothing about whether the customer is still active.
PASSIVE_KINDS = frozenset({TransactionKind.SALARY_CREDIT, TransactionKind.FEE, TransactionKind.INTEREST})


def is_customer_activity(event: InputEvent) -> bool:
    """True for what the customer did (the BG/NBD model counts these days), not the bank or employer;
    a failed login is not: anyone may mistype a password, or try someone else's."""
    if isinstance(event, Transaction):
        return event.kind not in PASSIVE_KINDS
    return isinstance(event, Interaction) and not is_failed_login(event)


def is_failed_login(event: Interaction) -> bool:
    return event.kind is InteractionKind.LOGIN and event.auth_outcome is AuthOutcome.FAILED


def build_update(event: InputEvent, home_bank: str, position: str = "") -> ProfileUpdate:
    """Return the bucket increments and state operations for ``event``, read at ``position``."""
    increments = [0] * METRIC_COUNT
    ops: list[Op] = []
    ts = event_millis(event)
    if isinstance(event, Transaction):
        _transaction(event, home_bank, increments, ops, ts)
    elif isinstance(event, Interaction):
        if not is_failed_login(event):  # only the risk behaviour (below) and the timeline see it
            _interaction(event, increments, ops, ts)
    else:
        _customer(event, ops)
    if not isinstance(event, Customer):
        ops.append((BEHAVIOUR_OP, "", _observation(event)))
    if is_customer_activity(event):
        increments[Metric.ACTIVE] = 1
        day = str(ts // MS_PER_DAY)
        ops.extend((("mn", "act_first", day), ("mx", "act_last", day)))
    return ProfileUpdate(event.customer_id, event.event_id, ts, tuple(increments), tuple(ops), position)


def _transaction(event: Transaction, home_bank: str, inc: list[int], ops: list[Op], ts: int) -> None:
    cents = to_cents(event.amount)
    inc[Metric.TXN_COUNT] = 1
    ops.append(("mx", "activity_ts", str(ts)))
    if event.kind in INFLOW_KINDS:
        inc[Metric.INFLOW] = cents
    else:
        inc[Metric.OUTFLOW] = cents
        if event.counterparty_bank and event.counterparty_bank != home_bank:
            inc[Metric.OUTFLOW_OTHER_BANK] = cents
            if event.kind is TransactionKind.TRANSFER_OUT:
                _payee_bank(event.counterparty_bank, ts, ops)
    if event.kind is TransactionKind.SALARY_CREDIT:
        inc[Metric.SALARY_COUNT] = 1
        inc[Metric.SALARY_AMOUNT] = cents
        ops.append(("mx", "salary_ts", str(ts)))
    if event.kind is TransactionKind.CARD_PAYMENT:
        inc[Metric.CARD_SPEND] = cents
    elif event.kind is TransactionKind.LOAN_REPAYMENT:
        inc[Metric.LOAN_REPAYMENT] = cents
    elif event.kind is TransactionKind.FEE:
        inc[Metric.FEES] = cents
    if event.balance_after is not None:
        # the account's own balance: the store adds the customer's other accounts to it, so that
        # each report counts the total relationship balance at its moment
        balance = to_cents(event.balance_after)
        inc[Metric.BALANCE_SUM] = balance
        inc[Metric.BALANCE_N] = 1
        ops.append((ACCOUNT_OP, event.account_id, str(balance)))


#: Channels where the customer stands at the merchant, ATM or branch: its country is where they are.
_IN_PERSON = frozenset({Channel.POS, Channel.ATM, Channel.BRANCH})


def _observation(event: Transaction | Interaction) -> str:
    """What the event tells the risk rules' behaviour: device, country, payee, place, amount.

    The country is where the customer is: the IP's, else the merchant's when paid in person (an
    online shop or a subscription abroad says nothing about where the customer is)."""
    merchant = event.merchant_country if isinstance(event, Transaction) else None
    country = event.ip_country or (merchant if event.channel in _IN_PERSON else None)
    place = (
        (event.latitude, event.longitude)
        if event.latitude is not None and event.longitude is not None
        else None
    )
    failed = isinstance(event, Interaction) and is_failed_login(event)
    return observe(
        event.kind if isinstance(event, Transaction) else None,
        to_cents(event.amount) if isinstance(event, Transaction) else 0,
        event.channel,
        event.device_id,
        country,
        event.payee_id if isinstance(event, Transaction) else None,
        place,
        failed,
    ).text()


def _payee_bank(bank: str, ts: int, ops: list[Op]) -> None:
    """Track since when the customer pays this bank: a new payee at another bank is where switchers
    send a test transfer before moving their money."""
    ops.append(("rn", f"ob:{bank}", f"{ts // MS_PER_DAY},{NEW_PAYEE_GAP_DAYS}"))
    ops.append(("sn", "payee_bank", bank))


def _interaction(event: Interaction, inc: list[int], ops: list[Op], ts: int) -> None:
    inc[Metric.INTERACTION_COUNT] = 1
    ops.append(("mx", "activity_ts", str(ts)))
    kind = event.kind
    if kind is InteractionKind.LOGIN:
        inc[Metric.LOGIN_COUNT] = 1
        ops.append(("mx", "login_ts", str(ts)))
    elif kind is InteractionKind.COMPLAINT_OPENED:
        inc[Metric.COMPLAINT_COUNT] = 1
        ops.append(("sn", f"c:{event.reference or event.event_id}", f"open:{ts}"))
    elif kind is InteractionKind.COMPLAINT_RESOLVED and event.reference:
        ops.append(("sn", f"c:{event.reference}", "resolved"))
    elif kind is InteractionKind.OFFER_ACCEPTED:
        inc[Metric.OFFERS_ACCEPTED] = 1
        ops.append(("mx", "offer_accept_ts", str(ts)))
        if event.product:  # an accepted offer is a product the customer now holds
            ops.append(("sn", f"p:{event.product}", "1"))
    elif kind is InteractionKind.OFFER_DECLINED:
        inc[Metric.OFFERS_DECLINED] = 1
        ops.append(("mx", "offer_decline_ts", str(ts)))
    elif kind is InteractionKind.PRODUCT_OPENED and event.product:
        ops.append(("sn", f"p:{event.product}", "1"))
    elif kind is InteractionKind.PRODUCT_CLOSED and event.product:
        ops.append(("sn", f"p:{event.product}", "0"))
    elif kind is InteractionKind.SURVEY_RESPONSE and event.score is not None:
        ops.append(("sn", "nps", str(event.score)))
    elif kind is InteractionKind.CONTACT_UPDATE:
        ops.append(("mx", "contact_ts", str(ts)))


def _customer(event: Customer, ops: list[Op]) -> None:
    values = {
        "segment": event.segment.value,
        "marketing_consent": "1" if event.marketing_consent else "0",
        "kyc_risk": event.kyc_risk.value,
        "birth_date": event.birth_date.isoformat() if event.birth_date else "",
        "opened_ms": str(int(event.opened_at.timestamp() * 1000)) if event.opened_at else "",
        "household_id": event.household_id or "",
    }
    ops.extend(("sn", f"m:{name}", value) for name, value in values.items())
