"""Input topics: transactions, interactions and customer master data."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, model_validator
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
#: An ISO 3166-1 alpha-2 country code, upper case ("DE", "FR").
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class AuthMethod(StrEnum):
    """How the customer proved who they are for this event (strongest last)."""

    NONE = "none"
    PASSWORD = "password"  # noqa: S105 (a method's name, not a secret)
    OTP = "otp"
    BIOMETRIC = "biometric"


class AuthOutcome(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"


class Origin(TolerantInput):
    """Where and how an event was made, as far as the producing channel knows: all optional.

    The risk rules compare these with the customer's own history (schemas/profile/behaviour.py);
    an absent field is simply not compared. They are personal data: never logged.
    """

    device_id: Identifier | None = Field(
        None,
        description="The device the customer used (app installation or browser fingerprint, as the "
        "channel identifies it); absent for branch, call centre and card-present events without one.",
    )
    ip_country: CountryCode | None = Field(
        None,
        description="ISO 3166-1 alpha-2 country of the IP address the event came from (online channels).",
    )
    city: ShortText | None = Field(
        None, description="City where the event happened, when the channel knows it."
    )
    latitude: float | None = Field(
        None,
        ge=-90,
        le=90,
        description="Where the event happened (WGS84 degrees); with longitude or not at all.",
    )
    longitude: float | None = Field(
        None,
        ge=-180,
        le=180,
        description="Where the event happened (WGS84 degrees); with latitude or not at all.",
    )
    auth_method: AuthMethod | None = Field(
        None, description="How the customer authenticated: none, password, otp or biometric."
    )

    @model_validator(mode="after")
    def _both_coordinates(self) -> Origin:
        """A latitude without a longitude locates nothing: refuse it rather than guess."""
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude come together or not at all")
        return self


class Transaction(Origin):
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
    merchant_country: CountryCode | None = Field(
        None,
        description="For card payments and withdrawals: ISO 3166-1 alpha-2 country of the merchant or ATM.",
    )
    payee_id: Identifier | None = Field(
        None,
        description="For transfers out: the payee (beneficiary account or its stable token), so a "
        "first payment to someone can be told from a usual one.",
    )


class Interaction(Origin):
    """Something the customer did or said outside of booking money."""

    type: Literal["interaction"] = "interaction"
    kind: InteractionKind
    channel: Channel
    product: ProductCode | None = None
    score: int | None = Field(None, ge=0, le=10, description="NPS answer for survey_response.")
    reference: Identifier | None = Field(None, description="Complaint or offer id the interaction refers to.")
    note: LongText | None = None
    auth_outcome: AuthOutcome | None = Field(
        None, description="For logins: success or failed (a failed login attempt); absent: success."
    )


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
