"""Next-best-offer arbitration: which offers a customer may get now, ranked, before Redis state.

Pure and deterministic. Per offer, in order: in the customer's strategy, eligible, triggered by this
event, inside its campaign dates, suitable, propensity above zero, then the profile-based contact
policy (consent, open complaint, open risk case, churn level). What remains is ranked by
``propensity^p x value^v x lever^l`` with the strategy's weights. Caps and cool-offs need the
customer's offer log and are enforced in the claim round trip (sinks/lua/claim.lua).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from rules.load.model import ContactPolicy, Offer, Strategies, Strategy
from schemas.outputs import ChurnLevel

#: Decisions that are not suppressions: the offer was never a candidate for this event.
NOT_IN_STRATEGY = "not in strategy"
NOT_ELIGIBLE = "not eligible"
NOT_TRIGGERED = "not triggered"
OUTSIDE_VALIDITY = "outside validity"
NO_PROPENSITY = "no propensity"
SUPPRESSED = "suppressed"
ALLOWED = "allowed"


class Candidate(NamedTuple):
    """An offer that passed every pure stage, with the figures that ranked it (a named tuple: one is
    built per eligible offer and event)."""

    offer: Offer
    propensity: float
    lever: float
    score: float


class Arbitration(NamedTuple):
    strategy: str
    candidates: tuple[Candidate, ...]  # best first
    suppressed: tuple[tuple[str, str], ...]  # (offer id, reason): eligible but stopped by suitability/policy
    decisions: tuple[str, ...]  # per offer of the ruleset, in its order: why it is (not) a candidate


@lru_cache(maxsize=65536)
def bucket(salt: str, customer_id: str) -> float:
    """A stable number in [0, 1) for a customer: the same id always lands in the same strategy."""
    digest = hashlib.sha256(f"{salt}|{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def strategy_for(strategies: Strategies, customer_id: str) -> Strategy:
    """Challengers take consecutive slices of [0, 1) by their share; the champion has the rest."""
    point = bucket(strategies.salt, customer_id)
    start = 0.0
    for challenger in strategies.challengers:
        if start <= point < start + challenger.share:
            return challenger
        start += challenger.share
    return strategies.champion


def _in_campaign(offer: Offer, today: date | None) -> bool:
    if today is None:
        return True
    return (offer.valid_from is None or offer.valid_from <= today) and (
        offer.valid_until is None or today <= offer.valid_until
    )


def policy_reason(
    policy: ContactPolicy, profile: dict[str, Any], offer: Offer, level: ChurnLevel | None
) -> str:
    """Why the profile-based contact policy stops ``offer`` ("" when it does not)."""
    if policy.require_marketing_consent and not profile.get("marketing_consent"):
        return "no_consent"
    if policy.block_when_complaint_open and profile.get("complaints_open", 0) > 0:
        return "complaint_open"
    if policy.block_while_risk_open and profile.get("risk_open"):
        return "risk_open"
    if offer.category == "sales" and level in policy.block_sales_at_levels:
        return "churn_risk"
    return ""


def arbitrate(
    offers: Sequence[Offer],
    strategies: Strategies,
    policy: ContactPolicy,
    profile: dict[str, Any],
    event: dict[str, Any],
    level: ChurnLevel | None,
    stages: Sequence[tuple[bool, bool, float]],  # per offer: eligible, suitable, propensity
    today: date | None,
) -> Arbitration:
    """Run every pure stage for each offer and rank the candidates."""
    strategy = strategy_for(strategies, str(profile.get("customer_id", "")))
    if True not in (eligible for eligible, _, _ in stages):  # the usual case: nothing to arbitrate
        return Arbitration(strategy.name, (), (), (NOT_ELIGIBLE,) * len(stages))
    allowed = strategy.offers  # a few ids; empty: every offer
    weights = strategy.weights
    kind = event.get("kind")
    candidates: list[Candidate] = []
    suppressed: list[tuple[str, str]] = []
    decisions: list[str] = []
    for offer, (eligible, suitable, propensity) in zip(offers, stages, strict=True):
        if not eligible:
            decisions.append(NOT_ELIGIBLE if not allowed or offer.id in allowed else NOT_IN_STRATEGY)
            continue
        decision = ALLOWED
        if allowed and offer.id not in allowed:
            decision = NOT_IN_STRATEGY
        elif offer.triggers and kind not in offer.triggers:
            decision = NOT_TRIGGERED
        elif not _in_campaign(offer, today):
            decision = OUTSIDE_VALIDITY
        else:
            reason = "not_suitable" if not suitable else policy_reason(policy, profile, offer, level)
            if reason:
                suppressed.append((offer.id, reason))
                decision = SUPPRESSED
            elif propensity <= 0.0:
                decision = NO_PROPENSITY
        decisions.append(decision)
        if decision == ALLOWED:
            lever = strategy.levers.get(offer.id, offer.priority)
            score = propensity**weights.propensity * offer.value**weights.value * lever**weights.lever
            candidates.append(Candidate(offer, propensity, lever, round(score, 6)))
    if len(candidates) > 1:
        candidates.sort(key=lambda c: (-c.score, c.offer.id))
    return Arbitration(strategy.name, tuple(candidates), tuple(suppressed), tuple(decisions))


def clamp_propensity(value: Any) -> float:
    """A propensity as a probability: numbers clamped to 0..1, anything else 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return min(1.0, max(0.0, float(value)))
