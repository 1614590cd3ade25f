"""The output records: churn alerts, customer signals, risk signals, tag changes, tier changes and
next-best offers, with stable ids.

Pure builders (no Redis, no metrics): the claim step (agents/claims.py) calls them only for what
its cooldown claims granted. Ids are deterministic, so a re-processed event re-emits its outputs
under the same ids and consumers can drop the repeats.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from agents.trigger import Trigger
from rules.evaluate.arbitration import Candidate
from rules.evaluate.engine import RHYTHM_EVIDENCE, RHYTHM_REASON, Evaluation
from rules.evaluate.tiers import TierDecision
from rules.load.fired import Fired, evidence, render
from rules.load.model import CareRule, ChurnRule, RiskRule, ServiceRule, TagRule
from rules.load.ruleset import Ruleset
from schemas.catalog import CHURN_ALERTS, OFFERS, RISK_SIGNALS, SERVICE_ALERTS, SIGNALS, TIER_CHANGES
from schemas.outputs import (
    ChurnAlert,
    CustomerSignal,
    NextBestOffer,
    Reason,
    RecommendedAction,
    RiskLevel,
    RiskReason,
    RiskSignal,
    SignalKind,
    TierChange,
)


@dataclass(frozen=True, slots=True)
class OutputRecord:
    """One message to send: its topic, its key (the customer id) and its value."""

    topic: str
    key: bytes
    value: BaseModel

    def encoded(self) -> bytes:
        return self.value.model_dump_json().encode()


#: Sends outputs and returns once the broker has them all.
Deliver = Callable[[Sequence[OutputRecord]], Awaitable[None]]


def stable_id(*parts: str) -> str:
    """Deterministic output id: the same inputs always give the same id (dedupe after replays)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def expiry(occurred_at: datetime, valid_for: timedelta, valid_until: date | None) -> datetime:
    """Until when the customer may accept: ``valid_for`` after the trigger, never past the campaign."""
    expires = occurred_at + valid_for
    if valid_until is not None:
        campaign_end = datetime.combine(valid_until + timedelta(days=1), datetime.min.time(), UTC)
        expires = min(expires, campaign_end)
    return expires


def churn_alert(trigger: Trigger, evaluation: Evaluation, alert_id: str, version: str) -> OutputRecord:
    """The alert for an evaluation with a churn level: every fired churn rule a reason, largest first."""
    assert evaluation.level is not None, "only evaluations with a level raise alerts"
    context = evaluation.context
    reasons: list[tuple[float, Reason]] = []
    for index, fired in enumerate(evaluation.fired):
        rule = fired.rule
        assert isinstance(rule, ChurnRule), "evaluation.fired holds churn rules only"
        added = evaluation.rule_weights[index] if evaluation.rule_weights else None
        reason = Reason(
            rule_id=rule.id,
            message=fired.message(context),
            weight=rule.weight if added is None else _share(added),
            evidence=fired.evidence(context),
        )
        reasons.append((rule.weight if added is None else added, reason))
    scored = bool(evaluation.rule_weights) or not evaluation.fired  # by a fitted probability
    if scored and (evaluation.rhythm > 0 or not reasons):
        reasons.append((evaluation.rhythm, rhythm_reason(context["profile"], _share(evaluation.rhythm))))
    reasons.sort(key=lambda pair: -pair[0])
    alert = ChurnAlert(
        alert_id=alert_id,
        customer_id=trigger.customer_id,
        score=evaluation.score,
        level=evaluation.level,
        reasons=[reason for _, reason in reasons],
        suggested_action=evaluation.suggested_action,
        trigger_event_id=trigger.event_id,
        occurred_at=trigger.occurred_at,
        ruleset_version=version,
    )
    return OutputRecord(CHURN_ALERTS, trigger.customer_id.encode(), alert)


def _share(log_odds: float) -> float:
    """A reason's weight (0-1) from the log-odds it adds: the inverse of ``analyst_weight``, so a rule
    the fit did not weigh shows its YAML weight."""
    return round(1.0 - math.exp(-max(0.0, log_odds)), 4)


def rhythm_reason(profile: dict[str, Any], weight: float) -> Reason:
    """Why the customer's own rhythm raised the churn probability, with the figures it read."""
    evidence = {name: profile[name] for name in RHYTHM_EVIDENCE}
    gap = profile["activity_gap_median_days"]
    usual = f"usually every {gap:g} days" if gap > 0 else "no usual rhythm yet"
    message = (
        f"Last active {profile['days_since_active_day']} days ago ({usual}); active on "
        f"{profile['active_days_30d']} of the last 30 days; probability still active {profile['p_alive']:.2f}"
    )
    return Reason(rule_id=RHYTHM_REASON, message=message, weight=weight, evidence=evidence)


def customer_signal(
    trigger: Trigger, fired: Fired, signal_id: str, evaluation: Evaluation, version: str
) -> OutputRecord:
    """A tag, care or service signal; service alerts go to their own topic (risk: ``risk_signal``)."""
    rule = fired.rule
    assert not isinstance(rule, ChurnRule | RiskRule), "risk rules send risk signals"
    kind = SignalKind(rule.kind)
    signal = CustomerSignal(
        signal_id=signal_id,
        customer_id=trigger.customer_id,
        kind=kind,
        rule_id=rule.id,
        tag=rule.tag if isinstance(rule, TagRule) else None,
        severity=rule.severity if isinstance(rule, ServiceRule) else None,
        message=fired.message(evaluation.context),
        action=rule.action if isinstance(rule, CareRule | ServiceRule) else "",
        evidence=fired.evidence(evaluation.context),
        trigger_event_id=trigger.event_id,
        occurred_at=trigger.occurred_at,
        ruleset_version=version,
    )
    topic = SERVICE_ALERTS if kind is SignalKind.SERVICE else SIGNALS
    return OutputRecord(topic, trigger.customer_id.encode(), signal)


#: Recommended actions, strongest first: a signal recommends the strongest of its reasons'.
ACTION_STRENGTH = tuple(RecommendedAction)
#: Lowest combined score of each risk level, highest first.
RISK_LEVELS = ((70, RiskLevel.HIGH), (40, RiskLevel.MEDIUM), (0, RiskLevel.LOW))


def risk_id(customer_id: str, event_id: str, version: str) -> str:
    """The id of a trigger's one risk signal: every risk rule of it claims its cooldown under this id."""
    return stable_id("risk", customer_id, event_id, version)


def combined_score(scores: Sequence[int]) -> int:
    """Reasons as independent evidence: 100 x (1 - prod(1 - score/100)), rounded (one keeps its own)."""
    missing = 1.0
    for score in scores:
        missing *= 1 - score / 100
    return round(100 * (1 - missing))


def risk_level(score: int) -> RiskLevel:
    return next(level for floor, level in RISK_LEVELS if score >= floor)


def risk_signal(
    trigger: Trigger, fired: Sequence[Fired], signal_id: str, evaluation: Evaluation, version: str
) -> OutputRecord:
    """One trigger's risk signal: each risk rule that held and was granted (``fired``) a reason."""
    context = evaluation.context
    reasons: list[tuple[RiskRule, RiskReason]] = []
    for entry in fired:
        rule = entry.rule
        assert isinstance(rule, RiskRule), "risk signals hold risk rules only"
        reason = RiskReason(
            rule_id=rule.id,
            message=entry.message(context),
            score=rule.points,
            evidence=entry.evidence(context),
        )
        reasons.append((rule, reason))
    reasons.sort(key=lambda pair: -pair[1].score)  # stable: equal scores keep the file order
    top = reasons[0][0]
    score = combined_score([reason.score for _, reason in reasons])
    signal = RiskSignal(
        signal_id=signal_id,
        customer_id=trigger.customer_id,
        rule_id=top.id,
        score=score,
        level=risk_level(score),
        reasons=[reason for _, reason in reasons],
        recommended_action=min((r.recommended_action for r, _ in reasons), key=ACTION_STRENGTH.index),
        action=top.action,
        trigger_event_id=trigger.event_id,
        occurred_at=trigger.occurred_at,
        ruleset_version=version,
    )
    return OutputRecord(RISK_SIGNALS, trigger.customer_id.encode(), signal)


def tag_change_signal(
    trigger: Trigger,
    fired: Fired | None,
    tag: str,
    gained: bool,
    signal_id: str,
    evaluation: Evaluation,
    version: str,
) -> OutputRecord:
    """A tag gained or lost (``fired``: the tag's rule, its condition's values as evidence; None when
    no rule of the ruleset defines the tag any more)."""
    context = evaluation.context
    if fired is None:
        rule_id, message, grounds = "", f"No rule defines the tag {tag} any more", {}
    else:
        rule_id, grounds = fired.rule.id, fired.evidence(context)
        message = fired.message(context) if gained else f"No longer {tag}: {fired.message(context)}"
    signal = CustomerSignal(
        signal_id=signal_id,
        customer_id=trigger.customer_id,
        kind=SignalKind.TAG,
        rule_id=rule_id,
        tag=tag,
        tag_change="gained" if gained else "lost",
        message=message[:500],
        evidence=grounds,
        trigger_event_id=trigger.event_id,
        occurred_at=trigger.occurred_at,
        ruleset_version=version,
    )
    return OutputRecord(SIGNALS, trigger.customer_id.encode(), signal)


def tier_change(
    trigger: Trigger, decision: TierDecision, evaluation: Evaluation, ruleset: Ruleset
) -> OutputRecord | None:
    """The announcement of a tier change, explained by the rule that moved it; None if it did not."""
    state, rule = decision.state, decision.changed_to
    if state is None or rule is None:
        return None
    old = next((t for t in ruleset.tiers if t.tier == decision.previous), None)
    up = old is None or rule.rank > old.rank
    # up: the new tier's entry condition explains it; down: the old tier's failed stay condition
    explaining = rule.id if up or old is None else f"{old.id}#stay"
    condition = next(c for c in ruleset.conditions if c.rule_id == explaining)
    context = evaluation.context
    message = render(rule.message, context)
    if not up and old is not None:
        days = ruleset.tier_policy.hold.days
        message = f"Below the {old.tier} tier's stay condition for {days} days; {message}"
    change = TierChange(
        change_id=state.change_id,
        customer_id=trigger.customer_id,
        old_tier=decision.previous,
        new_tier=state.tier,
        direction="up" if up else "down",
        rule_id=rule.id,
        message=message,
        evidence=evidence(condition, context),
        trigger_event_id=trigger.event_id,
        occurred_at=trigger.occurred_at,
        ruleset_version=ruleset.version,
    )
    return OutputRecord(TIER_CHANGES, trigger.customer_id.encode(), change)


def next_best_offer(
    trigger: Trigger,
    evaluation: Evaluation,
    candidate: Candidate,
    offer_event_id: str,
    expires_at: datetime,
    channel: str,
    version: str,
) -> OutputRecord:
    """An offer the claim granted, on the ``channel`` the claim script picked among the offer's."""
    offer = candidate.offer
    nbo = NextBestOffer(
        offer_event_id=offer_event_id,
        customer_id=trigger.customer_id,
        offer_id=offer.id,
        product=offer.product,
        category=offer.category,
        score=candidate.score,
        propensity=round(candidate.propensity, 6),
        channel=channel,
        reasons=[render(offer.reason, evaluation.context), offer.description],
        trigger_event_id=trigger.event_id,
        occurred_at=trigger.occurred_at,
        expires_at=expires_at,
        ruleset_version=version,
        strategy=evaluation.strategy,
    )
    return OutputRecord(OFFERS, trigger.customer_id.encode(), nbo)
