"""Input topics: transactions, interactions and customer master data."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints
from pydantic_extra_types.currency_code import ISO4217

from schemas.common import Channel, Identifier, LongText, Money, ShortText, SignedMoney, StrictInput


class TransactionKind(StrEnum):
    SALARY_CREDIT = "salary_credit"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    CARD_PAYMENT = "card_payment"
    LOAN_REPAYMENT = "loan_repayment"
    FEE = "fee"
    INTEREST = "interest"
    INVESTMENT_BUY = "investment_buy"
    INVESTMENT_SELL = "investment_sell"


#: Kinds that bring money into the customer's accounts with us.
INFLOW_KINDS = frozenset(
    {
        TransactionKind.SALARY_CREDIT,
        TransactionKind.DEPOSIT,
        TransactionKind.TRANSFER_IN,
        TransactionKind.INTEREST,
        TransactionKind.INVESTMENT_SELL,
    }
)


class InteractionKind(StrEnum):
    LOGIN = "login"
    CALL = "call"
    BRANCH_VISIT = "branch_visit"
    COMPLAINT_OPENED = "complaint_opened"
    COMPLAINT_RESOLVED = "complaint_resolved"
    PRODUCT_OPENED = "product_opened"
    PRODUCT_CLOSED = "product_closed"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_DECLINED = "offer_declined"
    SURVEY_RESPONSE = "survey_response"
    CONTACT_UPDATE = "contact_update"


class Segment(StrEnum):
    """Commercial segment from the core system (the value tier is derived separately)."""

    RETAIL = "retail"
    SME = "sme"
    PRIVATE = "private"
    STUDENT = "student"


class KycRisk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class TolerantInput(StrictInput):
    """Base of input events: unknown fields are accepted and set aside in ``model_extra``.

    Kafka contracts evolve by adding fields, so a producer that starts sending one must not get
    its events dead-lettered; the decoder counts the names (agents/decode.py) and drops them, or
    dead-letters them on a topic configured strict (``SIGNALBANK_STRICT_TOPICS``). Known fields stay
    validated as strictly as before: unknown enum values are still dead letters.
    """

    model_config = ConfigDict(extra="allow")


ProductCode = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Z0-9_]+$")]


class Transaction(TolerantInput):
    """A booked movement on one of the customer's accounts."""

    type: Literal["transaction"] = "transaction"
    account_id: Identifier
    kind: TransactionKind
    amount: Money
    currency: ISO4217
    channel: Channel
    counterparty_bank: ShortText | None = Field(
        None, description="For transfers: the other side's bank code."
    )
    merchant_category: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    balance_after: SignedMoney | None = None


class Interaction(TolerantInput):
    """Something the customer did or said outside of booking money."""

    type: Literal["interaction"] = "interaction"
    kind: InteractionKind
    channel: Channel
    product: ProductCode | None = None
    score: int | None = Field(None, ge=0, le=10, description="NPS answer for survey_response.")
    reference: Identifier | None = Field(None, description="Complaint or offer id the interaction refers to.")
    note: LongText | None = None


class Customer(TolerantInput):
    """Master data of one customer (compacted topic: latest record per customer wins)."""

    type: Literal["customer"] = "customer"
    birth_date: date | None = None
    opened_at: AwareDatetime | None = None
    household_id: Identifier | None = None
    segment: Segment = Segment.RETAIL
    marketing_consent: bool = False
    kyc_risk: KycRisk = KycRisk.LOW


InputEvent = Transaction | Interaction | Customer
