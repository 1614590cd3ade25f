"""Schema of rule files: what an analyst may write, validated by pydantic with precise messages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from rules.load.durations import parse_duration
from schemas.outputs import ChurnLevel, RecommendedAction

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
    per: str | None = Field(
        None,
        pattern=r"^profile\.[a-z][a-z0-9_]*$",
        description="A profile field (e.g. `profile.oldest_open_complaint_ref`): the cooldown applies "
        "per distinct value of it, so each complaint gets its own alert.",
    )
    message: str = Field(min_length=1, max_length=300)
    enabled: bool = True

    @property
    def per_field(self) -> str | None:
        """The profile field named by ``per`` (``oldest_open_complaint_ref``), None without one."""
        return self.per.removeprefix("profile.") if self.per else None


class TagRule(SignalRule):
    """A customer-360 tag (e.g. ``salary_payer``) held while the condition is true: announced when
    gained and when lost, never while held (the customer's tag set is stored, no cooldown)."""

    kind: Literal["tag"]
    tag: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    cooldown: Duration = Field(
        timedelta(days=90),
        description="Not used: a tag is announced when gained and when lost, never again while held. "
        "Accepted so that earlier rule files still load.",
    )


class CareRule(SignalRule):
    """A customer care moment (birthday, anniversary, welcome): a suggested caring contact."""

    kind: Literal["care"]
    action: str = Field(min_length=1, max_length=300)
    cooldown: Duration = timedelta(days=300)


#: A risk rule's score when its file gives none: by its severity.
RISK_SCORES: dict[str, int] = {"low": 30, "medium": 60, "high": 85}


class RiskRule(SignalRule):
    """A reason in a risk signal for the fraud team (e.g. a large transfer right after a contact change).

    Every risk rule that holds for one trigger, out of its own cooldown, is a reason of the one risk
    signal that trigger sends (signalbank.risk-signals.v1).
    """

    kind: Literal["risk"]
    severity: Severity = "medium"
    action: str = Field(min_length=1, max_length=300)
    cooldown: Duration = timedelta(days=7)
    score: int | None = Field(
        None,
        ge=1,
        le=100,
        description="How strongly the pattern points at fraud, 1-100; without it, from `severity` "
        "(low 30, medium 60, high 85). The signal combines its reasons' scores.",
    )
    recommended_action: RecommendedAction = Field(
        RecommendedAction.MONITOR,
        description="What the bank should do; a risk signal recommends the strongest of its reasons' "
        "(hold_payment > call_customer > step_up_auth > monitor).",
    )

    @property
    def points(self) -> int:
        """The rule's score, given or from its severity."""
        return self.score if self.score is not None else RISK_SCORES[self.severity]


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


OfferChannel = Literal["mobile", "web", "branch", "call_centre", "email", "sms", "push"]


class Offer(Strict):
    """A product offer: when it may be made, to whom, how likely it is taken, what it is worth.

    Arbitration ranks the offers that are eligible, suitable and triggered by
    ``propensity x value x priority`` (each raised to its strategy weight), then the contact policy
    decides what may actually be sent.
    """

    id: RuleId
    product: str = Field(pattern=r"^[A-Z0-9_]+$", max_length=40)
    category: Literal["sales", "retention"] = "sales"
    description: str = Field(min_length=1, max_length=300)
    triggers: list[str] = Field(
        default_factory=list, description="Event kinds that may produce it; empty: any, silence checks too."
    )
    eligible: Expression = Field(description="CEL condition: the customer may have the product at all.")
    suitable: Expression = Field(
        "true",
        description="CEL condition: the product fits the customer (risk profile, age, ...); "
        "checked apart from eligibility so both show in explanations and metrics.",
    )
    propensity: Expression = Field(
        "1.0", description="CEL number 0..1 from profile fields: how likely the customer takes it."
    )
    value: float = Field(gt=0, description="Worth of the offer to the bank.")
    priority: float = Field(1.0, gt=0, description="Business lever: multiplies the ranking score.")
    channels: list[OfferChannel] = Field(
        min_length=1,
        description="Where it may be made, preferred first (the event's channel wins if listed).",
    )
    cooldown: Duration = timedelta(days=30)
    valid_for: Duration = Field(timedelta(days=14), description="How long the customer may accept it.")
    valid_from: date | None = Field(None, description="Campaign start (first day it may be made).")
    valid_until: date | None = Field(None, description="Campaign end (last day it may be made and accepted).")
    reason: str = Field(min_length=1, max_length=300)
    enabled: bool = True

    @model_validator(mode="after")
    def _window(self) -> Offer:
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValueError("valid_from must not be after valid_until")
        return self


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
    quiet_period: Duration | None = Field(
        None,
        description="After an alert, no other for the customer unless the level rises, for this long; "
        "none: the top reason's cooldown.",
    )


class Cap(Strict):
    """At most ``count`` offers in any ``period``, on one channel or (no channel) on all of them."""

    count: int = Field(ge=0, le=100, description="Offers allowed in the period (0: none).")
    period: Duration = Field(description="Sliding window the count applies to, e.g. `30d`.")
    channel: OfferChannel | None = Field(None, description="Only offers on this channel; none: all offers.")


class Fatigue(Strict):
    """An offer ignored (expired unanswered) or declined ``negatives`` times within ``within``
    is not made again for ``cooloff``."""

    negatives: int = Field(2, ge=1, le=10, description="Ignored or declined responses that count.")
    within: Duration = Field(timedelta(days=30), description="Window in which they must fall.")
    cooloff: Duration = Field(timedelta(days=60), description="Pause after the last of them.")


class ContactPolicy(Strict):
    """Who may receive offers, how often, and after which responses: the guard after arbitration.

    Consent, complaints, an open risk case and churn level are judged from the profile; caps and
    cool-offs from the customer's offer log in Redis, atomically with the claim of each offer.
    """

    require_marketing_consent: bool = True
    block_when_complaint_open: bool = True
    block_while_risk_open: bool = Field(
        True,
        description="No offer of any category while `profile.risk_open` (a risk case of the last 72 "
        "hours): no pitch during a fraud investigation.",
    )
    block_sales_at_levels: list[ChurnLevel] = Field(
        default_factory=lambda: [ChurnLevel.HIGH, ChurnLevel.CRITICAL]
    )
    max_offers_per_event: int = Field(1, ge=1, le=5)
    caps: list[Cap] = Field(
        default_factory=lambda: [Cap(count=2, period=timedelta(days=30))],
        description="Offers per customer per period, overall or per channel; all must allow an offer.",
    )
    decline_cooloff: Duration = Field(
        timedelta(days=60), description="The same offer is not made again this long after a decline."
    )
    fatigue: Fatigue = Field(Fatigue(), description="Pause after repeated ignored or declined offers.")


class Weights(Strict):
    """Exponents of the ranking factors: score = propensity^p x value^v x lever^l (0 ignores one)."""

    propensity: float = Field(1.0, ge=0, le=5, description="Exponent of the offer's propensity.")
    value: float = Field(1.0, ge=0, le=5, description="Exponent of the offer's value.")
    lever: float = Field(1.0, ge=0, le=5, description="Exponent of the lever (the offer's priority).")


class Strategy(Strict):
    """A set of offers and arbitration weights; each offer event names the strategy that chose it."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", max_length=40, description="Sent as `strategy` with each offer."
    )
    description: str = Field("", max_length=300)
    offers: list[str] = Field(default_factory=list, description="Offer ids it may make; empty: all.")
    weights: Weights = Field(Weights(), description="Exponents of the ranking factors.")
    levers: dict[str, float] = Field(
        default_factory=dict, description="Per offer id, a lever used instead of the offer's `priority`."
    )


class Challenger(Strategy):
    share: float = Field(gt=0, le=1, description="Share of customers (by a stable hash of their id).")


class Strategies(Strict):
    """The champion strategy and challengers, each for a stable share of customers."""

    salt: str = Field(
        "signalbank", min_length=1, max_length=40, description="Changing it reshuffles customers."
    )
    champion: Strategy = Field(
        Strategy(name="champion"), description="For every customer no challenger takes."
    )
    challengers: list[Challenger] = Field(
        default_factory=list, description="Each takes its `share` of customers, in order."
    )

    @model_validator(mode="after")
    def _shares(self) -> Strategies:
        if sum(c.share for c in self.challengers) > 1.0 + 1e-9:
            raise ValueError("challenger shares add up to more than 1")
        names = [self.champion.name, *(c.name for c in self.challengers)]
        if len(set(names)) != len(names):
            raise ValueError("strategy names must be distinct")
        return self


class TierPolicy(Strict):
    """How long a customer must fall short of their tier's ``stay`` condition before leaving it."""

    hold: Duration = Field(timedelta(days=14), description="Time below `stay` before a downgrade.")


class RuleFile(Strict):
    """One YAML file; a ruleset is the union of all files in the rules folder."""

    churn_policy: ChurnPolicy | None = None
    contact_policy: ContactPolicy | None = None
    tier_policy: TierPolicy | None = None
    strategies: Strategies | None = None
    rules: list[AnyRule] = Field(default_factory=list)
    offers: list[Offer] = Field(default_factory=list)
