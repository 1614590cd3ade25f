"""A small ruleset with one rule of each kind that makes claims, and evaluations of it without Redis.

For tests of the claim step and the output builders: a churn rule (the alert slot), a tag and a
per-complaint service rule (signal slots), two tiers (the tier's compare-and-set) and one offer
(offer slots), with a contact policy whose limits are easy to recognise in milliseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents.trigger import Evaluated, Trigger
from rules.evaluate.engine import Evaluation, evaluate
from rules.load.ruleset import Ruleset, load_sources
from rules.tools.case_context import complete_event, complete_profile
from schemas.profile.churn_probability import ChurnProbability

SMALL_RULES = """\
tier_policy:
  hold: 14d
contact_policy:
  max_offers_per_event: 1
  caps: [{count: 2, period: 7d, channel: mobile}, {count: 3, period: 30d}]
  decline_cooloff: 60d
  fatigue: {negatives: 2, within: 30d, cooloff: 45d}
rules:
  - id: churn.withdrawal
    kind: churn
    description: A withdrawal (stands for any strong churn sign)
    when: event.kind == "withdrawal"
    weight: 0.7
    cooldown: 10d
    reason: "withdrawal of {event.amount}"
  - id: tag.everyone
    kind: tag
    tag: everyone
    description: Every customer
    when: "true"
    message: everyone
  - id: service.complaint
    kind: service
    description: A complaint is open
    when: profile.complaints_open > 0
    action: Call the customer back
    message: "Complaint {profile.oldest_open_complaint_ref} open"
    per: profile.oldest_open_complaint_ref
    cooldown: 5d
  - id: tier.gold
    kind: tier
    tier: gold
    rank: 2
    description: High balances
    when: profile.balance_avg_90d >= 1000.0
    stay: profile.balance_avg_90d >= 800.0
    message: "Average balance {profile.balance_avg_90d}"
  - id: tier.mass
    kind: tier
    tier: mass
    rank: 1
    description: Everyone
    when: "true"
    stay: "true"
    message: everyone
offers:
  - id: offer.keep
    product: KEEP
    category: retention
    description: A retention offer
    eligible: "true"
    suitable: event.kind == "withdrawal"
    propensity: "0.5"
    value: 10
    channels: [call_centre, mobile]
    cooldown: 2d
    valid_for: 20d
    reason: keep
"""

#: When the evaluated events happen (event time).
AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
AT_MS = int(AT.timestamp() * 1000)


def small_ruleset() -> Ruleset:
    return load_sources([("small.yaml", SMALL_RULES)])


def evaluated(
    ruleset: Ruleset,
    event: dict[str, Any],
    profile: dict[str, Any] | None = None,
    duplicate: bool = False,
    channel: str = "mobile",
    stored_tier: str = "",
    event_id: str = "E1",
    churn: ChurnProbability | None = None,
) -> Evaluated:
    """Customer C1's event ``event_id`` at ``AT`` evaluated on a neutral profile with ``profile`` set
    (``churn``: scored by that fitted churn probability)."""
    given = {"customer_id": "C1", "marketing_consent": True, **(profile or {})}
    evaluation: Evaluation = evaluate(
        ruleset, complete_profile(given), complete_event(event), AT.date(), churn
    )
    trigger = Trigger("C1", event_id, AT_MS, AT, channel, stored_tier)
    return Evaluated(trigger, evaluation, duplicate)
