"""Output topics: churn alerts, offers, customer signals, service alerts, risk signals, tier changes,
dead letters."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from schemas.common import Channel, Identifier, OutputModel

EvidenceValue = float | int | str | bool | list[str] | None


class ChurnLevel(StrEnum):
    WATCH = "watch"
    ELEVATED = "elevated"
    HIGH = "high"
    CRITICAL = "critical"


class Reason(OutputModel):
    """Why a rule fired, with the values it read, so a human can check it."""

    rule_id: str = Field(max_length=100)
    message: str = Field(max_length=500)
    weight: float = Field(ge=0, le=1)
    evidence: dict[str, EvidenceValue]


class ChurnAlert(OutputModel):
    """A churn early warning for one customer (deduplicate downstream by ``alert_id``)."""

    type: Literal["churn_alert"] = "churn_alert"
    alert_id: str = Field(description="Deterministic: same customer, trigger and ruleset give the same id.")
    customer_id: Identifier
    score: float = Field(
        ge=0,
        le=1,
        description="Probability of being lost within the churn model's horizon (rules and the customer's "
        "rhythm, docs/rules.md); without a fitted model, the noisy-OR of the holding rules' weights.",
    )
    level: ChurnLevel
    reasons: list[Reason] = Field(min_length=1, description="Ordered by contribution, largest first.")
    suggested_action: str
    trigger_event_id: Identifier
    occurred_at: AwareDatetime = Field(description="Event time of the triggering event.")
    ruleset_version: str


class NextBestOffer(OutputModel):
    """One offer chosen for a customer after eligibility, arbitration and contact policy."""

    type: Literal["next_best_offer"] = "next_best_offer"
    offer_event_id: str = Field(description="Deterministic id for deduplication.")
    customer_id: Identifier
    offer_id: str = Field(max_length=100)
    product: str = Field(max_length=40)
    category: Literal["sales", "retention"]
    score: float = Field(
        ge=0, description="Arbitration score: propensity x value x lever (strategy weights)."
    )
    propensity: float = Field(1.0, ge=0, le=1, description="Estimated chance the customer takes it.")
    channel: Channel | Literal["email", "sms", "push"] = Field(
        description="First of the offer's channels the caps allow (the event's channel when listed)."
    )
    reasons: list[str]
    trigger_event_id: Identifier
    occurred_at: AwareDatetime
    expires_at: AwareDatetime = Field(description="Trigger time + valid_for, never past the campaign end.")
    ruleset_version: str
    strategy: str = Field(
        "champion", description="Offer strategy that chose it (champion or a challenger, by customer hash)."
    )


class SignalKind(StrEnum):
    TAG = "tag"
    CARE = "care"
    RISK = "risk"
    SERVICE = "service"


class CustomerSignal(OutputModel):
    """A tag gained or lost, a care moment or a service-level breach, from a YAML rule.

    Service breaches go to the service-alerts topic, tags and care moments to the signals topic. Risk
    rules send a ``RiskSignal`` to the risk topic (``kind: risk`` was sent here before contract 1.4.0).
    """

    type: Literal["customer_signal"] = "customer_signal"
    signal_id: str = Field(
        description="Deterministic: same customer, rule, trigger and ruleset give the same id."
    )
    customer_id: Identifier
    kind: SignalKind
    rule_id: str = Field(max_length=100)
    tag: str | None = Field(None, description="For kind=tag: the tag the customer gained or lost.")
    tag_change: Literal["gained", "lost"] | None = Field(
        None,
        description="For kind=tag: whether the customer gained the tag (its condition started holding) or "
        "lost it (it stopped holding). Absent from signals of earlier versions, which announced gains only.",
    )
    severity: Literal["low", "medium", "high"] | None = None
    message: str = Field(max_length=500)
    action: str = Field("", description="Suggested action for people (empty for tags).")
    evidence: dict[str, EvidenceValue]
    trigger_event_id: Identifier = Field(description="The event, or the silence check, that triggered it.")
    occurred_at: AwareDatetime = Field(
        description="Event time of the trigger (check time for silence checks)."
    )
    ruleset_version: str


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RecommendedAction(StrEnum):
    """What the bank should do about a risk signal, mildest last (a signal names its strongest)."""

    HOLD_PAYMENT = "hold_payment"
    CALL_CUSTOMER = "call_customer"
    STEP_UP_AUTH = "step_up_auth"
    MONITOR = "monitor"


class RiskReason(OutputModel):
    """One risk rule that held for the trigger, with the values it read, so an analyst can check it."""

    rule_id: str = Field(max_length=100)
    message: str = Field(max_length=500)
    score: int = Field(ge=0, le=100, description="The rule's own score (its YAML `score`).")
    evidence: dict[str, EvidenceValue]


class RiskSignal(OutputModel):
    """Behaviour unusual for this customer, for the fraud team: one signal per trigger, every risk rule
    that held (and was out of its cooldown) a reason, the strongest first."""

    type: Literal["risk_signal"] = "risk_signal"
    signal_id: str = Field(description="Deterministic: same customer, trigger and ruleset give the same id.")
    customer_id: Identifier
    rule_id: str = Field(max_length=100, description="The top reason's rule.")
    score: int = Field(
        ge=0,
        le=100,
        description="The reasons' scores combined as independent evidence: 100 x (1 - prod(1 - score/100)).",
    )
    level: RiskLevel = Field(description="From the score: high >= 70, medium >= 40, else low.")
    reasons: list[RiskReason] = Field(min_length=1, description="Ordered by score, largest first.")
    recommended_action: RecommendedAction = Field(
        description="The strongest action any reason recommends (hold_payment > call_customer > "
        "step_up_auth > monitor)."
    )
    action: str = Field("", max_length=500, description="The top reason's suggested action, for people.")
    trigger_event_id: Identifier
    occurred_at: AwareDatetime = Field(description="Event time of the triggering event.")
    ruleset_version: str


class TierChange(OutputModel):
    """A customer moved to another value tier (up at once, down only after the hold period)."""

    type: Literal["tier_change"] = "tier_change"
    change_id: str = Field(description="Deterministic: same customer, trigger and ruleset give the same id.")
    customer_id: Identifier
    old_tier: str | None = Field(description="None when the customer's first tier is announced.")
    new_tier: str
    direction: Literal["up", "down"]
    rule_id: str = Field(max_length=100)
    message: str = Field(max_length=500, description="Why: the tier's condition with its values.")
    evidence: dict[str, EvidenceValue]
    trigger_event_id: Identifier
    occurred_at: AwareDatetime
    ruleset_version: str


class DeadLetterReason(StrEnum):
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    FUTURE_EVENT = "future_event"


class ValidationIssue(OutputModel):
    loc: str = Field(max_length=200)
    message: str = Field(max_length=500)
    kind: str = Field(max_length=100)


class DeadLetter(OutputModel):
    """An input we could not accept, kept whole so it can be fixed and replayed."""

    type: Literal["dead_letter"] = "dead_letter"
    source_topic: str
    source_partition: int
    source_offset: int
    reason: DeadLetterReason
    errors: list[ValidationIssue]
    payload_base64: str = Field(description="The original message value, byte for byte.")
    key_base64: str | None = None
    received_at: AwareDatetime
