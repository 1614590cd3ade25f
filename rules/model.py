"""Schema of rule files: what an analyst may write, validated by pydantic with precise messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from rules.durations import parse_duration
from schemas.outputs import ChurnLevel

Duration = Annotated[timedelta, BeforeValidator(lambda v: parse_duration(v) if isinstance(v, str) else v)]
Severity = Literal["low", "medium", "high"]
RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=100)]
Expression = Annotated[str, Field(min_length=1, max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChurnRule(Strict):
    """A condition that, when true, adds ``weight`` to the customer's churn score."""

    id: RuleId
    kind: Literal["churn"]
    description: str = Field(min_length=1, max_length=300)
    when: Expression
    weight: float = Field(gt=0, le=1)
    cooldown: Duration = timedelta(days=14)
    reason: str = Field(min_length=1, max_length=300)
    enabled: bool = True


class SignalRule(Strict):
    """Common shape of rules that emit a customer signal when their condition holds.

    The signal is sent when the condition becomes true and again only after ``cooldown``.
    """

    id: RuleId
    description: str = Field(min_length=1, max_length=300)
    when: Expression
    cooldown: Duration = timedelta(days=30)
    message: str = Field(min_length=1, max_length=300)
    enabled: bool = True


class TagRule(SignalRule):
    """A customer-360 tag (e.g. ``salary_payer``) held while the condition is true."""

    kind: Literal["tag"]
    tag: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    cooldown: Duration = timedelta(days=90)


class CareRule(SignalRule):
    """A customer care moment (birthday, anniversary, welcome): a suggested caring contact."""

    kind: Literal["care"]
    action: str = Field(min_length=1, max_length=300)
    cooldown: Duration = timedelta(days=300)


class RiskRule(SignalRule):
    """A risk signal for the risk or fraud team (e.g. a large transfer right after a contact change)."""

    kind: Literal["risk"]
    severity: Severity = "medium"
    action: str = Field(min_length=1, max_length=300)
    cooldown: Duration = timedelta(days=7)


class ServiceRule(SignalRule):
    """A service-level breach (e.g. a complaint open past its SLA), sent to the service-alerts topic."""

    kind: Literal["service"]
    severity: Severity = "high"
    action: str = Field(min_length=1, max_length=300)
    cooldown: Duration = timedelta(days=30)


class TierRule(Strict):
    """A value tier (mass, affluent, private, ...) with hysteresis.

    A customer enters the highest-ranked tier whose ``when`` holds, at once. They leave their tier
    only after its ``stay`` condition (set it looser than ``when``) has failed for the tier
    policy's ``hold`` period, so a balance hovering at a threshold does not make them flap.
    """

    id: RuleId
    kind: Literal["tier"]
    tier: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40, description="Tier name sent downstream.")
    rank: int = Field(ge=1, le=20, description="Higher is more valuable; the lowest rank is the default.")
    description: str = Field(min_length=1, max_length=300)
    when: Expression = Field(description="CEL condition to enter the tier.")
    stay: Expression = Field(description="CEL condition to keep the tier (looser than `when`).")
    message: str = Field(min_length=1, max_length=300)
    enabled: bool = True


AnyRule = Annotated[
    ChurnRule | TagRule | CareRule | RiskRule | ServiceRule | TierRule, Field(discriminator="kind")
]
SignalKindRule = TagRule | CareRule | RiskRule | ServiceRule


class Offer(Strict):
    """A product offer: when it may be made, to whom, how much it is worth, and by which channel."""

    id: RuleId
    product: str = Field(pattern=r"^[A-Z0-9_]+$", max_length=40)
    category: Literal["sales", "retention"] = "sales"
    description: str = Field(min_length=1, max_length=300)
    triggers: list[str] = Field(
        default_factory=list, description="Event kinds that may produce it; empty: any."
    )
    eligible: Expression
    value: float = Field(gt=0)
    priority: float = Field(1.0, gt=0)
    channels: list[Literal["mobile", "web", "branch", "call_centre", "email", "sms", "push"]] = Field(
        min_length=1
    )
    cooldown: Duration = timedelta(days=30)
    valid_for: Duration = timedelta(days=14)
    reason: str = Field(min_length=1, max_length=300)
    enabled: bool = True


class LevelThresholds(Strict):
    """Churn score at which each level starts; below ``watch`` no alert is sent."""

    watch: float = Field(0.2, ge=0, le=1)
    elevated: float = Field(0.4, ge=0, le=1)
    high: float = Field(0.6, ge=0, le=1)
    critical: float = Field(0.8, ge=0, le=1)

    @model_validator(mode="after")
    def _ascending(self) -> LevelThresholds:
        if not self.watch < self.elevated < self.high < self.critical:
            raise ValueError("levels must rise: watch < elevated < high < critical")
        return self


class RetentionAction(Strict):
    """Suggested action for a level, optionally only when a given rule is the top reason."""

    level: ChurnLevel
    top_reason: str | None = None
    action: str = Field(min_length=1, max_length=300)


class ChurnPolicy(Strict):
    levels: LevelThresholds = LevelThresholds()
    actions: list[RetentionAction] = Field(default_factory=list)


class ContactPolicy(Strict):
    """Who may receive offers at all: the guard in front of arbitration."""

    require_marketing_consent: bool = True
    block_when_complaint_open: bool = True
    block_sales_at_levels: list[ChurnLevel] = Field(
        default_factory=lambda: [ChurnLevel.HIGH, ChurnLevel.CRITICAL]
    )
    max_offers_per_event: int = Field(1, ge=1, le=5)


class TierPolicy(Strict):
    """How long a customer must fall short of their tier's ``stay`` condition before leaving it."""

    hold: Duration = Field(timedelta(days=14), description="Time below `stay` before a downgrade.")


class RuleFile(Strict):
    """One YAML file; a ruleset is the union of all files in the rules folder."""

    churn_policy: ChurnPolicy | None = None
    contact_policy: ContactPolicy | None = None
    tier_policy: TierPolicy | None = None
    rules: list[AnyRule] = Field(default_factory=list)
    offers: list[Offer] = Field(default_factory=list)
