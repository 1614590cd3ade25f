"""Why the rules conclude what they do for one customer: every rule, the values it read, the outcome.

Analysts and support staff ask "why did (or didn't) this customer get an alert or an offer?"; this
answers from the same ``evaluate`` the worker runs, so the explanation cannot drift from behaviour.
Cooldowns are not applied: they say whether an output is *sent again*, not what the rules conclude.
Likewise for offers: eligibility, suitability, propensity, ranking and the profile-based contact
policy (consent, complaints, churn level) are shown; the caps per period and channel, the same-offer
cool-off and the cool-offs after declines or ignored offers depend on the customer's offer log in
Redis and are applied only when an offer is claimed, so an offer shown as chosen may still be held.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from rules.evaluate.engine import Evaluation, evaluate
from rules.load.conditions import Condition, OfferConditions
from rules.load.fired import Fired, render
from rules.load.model import ChurnRule, RiskRule, SignalKindRule, TagRule, TierRule
from rules.load.ruleset import Ruleset
from rules.tools.case_context import SILENCE
from schemas.profile.churn_probability import ChurnProbability
from schemas.profile.view import Profile, neutral_event


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """One churn or signal rule: whether it fired and the values its condition read."""

    id: str
    kind: str
    fired: bool
    detail: str  # churn: weight; tag: the tag; risk: score, recommended action; care/service: severity
    reads: dict[str, Any]
    message: str  # the rendered reason or message, only when fired


@dataclass(frozen=True, slots=True)
class OfferVerdict:
    """One offer: every stage of the decision, and the figures that ranked it."""

    id: str
    product: str
    category: str
    eligible: bool
    suitable: bool
    triggered: bool
    #: chosen, allowed (ranked below the chosen), suppressed, no propensity, outside validity,
    #: not triggered, not eligible, not in strategy
    decision: str
    suppressed_reason: str
    propensity: float
    score: float  # propensity x value x lever with the strategy's weights (0 unless a candidate)
    reads: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Explanation:
    customer_id: str
    ruleset_version: str
    event: dict[str, Any]
    score: float
    level: str  # "none" below watch
    action: str
    top_reason: str
    churn: tuple[RuleVerdict, ...]
    signals: tuple[RuleVerdict, ...]
    tags: tuple[str, ...]
    tiers: tuple[RuleVerdict, ...]  # per tier its `when` (enter) and its `stay` condition
    qualifies_for: str  # the highest tier entered now (the stored tier and its hold are not shown)
    strategy: str  # the customer's offer strategy (champion or a challenger)
    offers: tuple[OfferVerdict, ...]
    chosen: tuple[str, ...]  # offers that would be sent, best first, before caps and cool-offs
    errors: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _reads(condition: Condition, evaluation: Evaluation) -> dict[str, Any]:
    return {f"{root}.{name}": evaluation.context[root].get(name) for root, name in condition.reads}


def _detail(rule: ChurnRule | SignalKindRule) -> str:
    if isinstance(rule, ChurnRule):
        return f"weight {rule.weight:g}"
    if isinstance(rule, TagRule):
        return f"tag {rule.tag}"
    if isinstance(rule, RiskRule):
        return f"score {rule.points}, {rule.recommended_action.value}"
    severity = getattr(rule, "severity", "")
    return f"{severity} severity" if severity else rule.action


def _rule(fired: Fired, held: bool, ev: Evaluation) -> RuleVerdict:
    rule = fired.rule
    template = rule.reason if isinstance(rule, ChurnRule) else rule.message
    message = render(template, ev.context) if held else ""
    return RuleVerdict(rule.id, rule.kind, held, _detail(rule), _reads(fired.condition, ev), message)


def _offer(
    parts: OfferConditions,
    eligible: bool,
    suitable: bool,
    propensity: float,
    decision: str,
    ev: Evaluation,
    chosen: set[str],
    scores: dict[str, float],
) -> OfferVerdict:
    offer = parts.offer
    triggered = not offer.triggers or ev.context["event"].get("kind") in offer.triggers
    if decision == "allowed" and offer.id in chosen:
        decision = "chosen"
    reads = {
        **_reads(parts.eligible, ev),
        **_reads(parts.suitable, ev),
        **_reads(parts.propensity, ev),
    }
    return OfferVerdict(
        offer.id,
        offer.product,
        offer.category,
        eligible,
        suitable,
        triggered,
        decision,
        dict(ev.suppressed).get(offer.id, ""),
        propensity,
        scores.get(offer.id, 0.0),
        reads,
    )


def _tier(tier: TierRule, condition: Condition, held: bool, stay: bool, ev: Evaluation) -> RuleVerdict:
    message = render(tier.message, ev.context) if held and not stay else ""
    detail = f"rank {tier.rank} {'stay' if stay else 'enter'}"
    return RuleVerdict(condition.rule_id, "tier", held, detail, _reads(condition, ev), message)


def explain(
    ruleset: Ruleset,
    profile: dict[str, Any],
    event: dict[str, Any],
    today: date | None = None,
    probability: ChurnProbability | None = None,
) -> Explanation:
    """Evaluate ``profile`` and ``event`` and explain every rule and offer of ``ruleset``; with the
    fitted churn ``probability`` the score and level are the ones the worker would send."""
    ev = evaluate(ruleset, profile, event, today, probability)
    compiled, slots, held = ruleset.compiled, ruleset.compiled.slots, ev.results
    churn = [_rule(f, h, ev) for f, h in zip(compiled.churn, held[slots.churn], strict=True)]
    signals = [_rule(f, h, ev) for f, h in zip(compiled.signals, held[slots.signals], strict=True)]
    chosen = tuple(o.id for o in ev.offers[: ruleset.contact_policy.max_offers_per_event])
    scores = {c.offer.id: c.score for c in ev.candidates}
    stages = zip(
        compiled.offers,
        held[slots.eligible],
        held[slots.suitable],
        ev.propensities,
        ev.decisions,
        strict=True,
    )
    offers = tuple(_offer(*stage, ev, set(chosen), scores) for stage in stages)
    tier_stages = zip(compiled.tiers, held[slots.tier_when], held[slots.tier_stay], strict=True)
    tiers = tuple(
        verdict
        for t, enters, stays in tier_stages
        for verdict in (_tier(t.tier, t.when, enters, False, ev), _tier(t.tier, t.stay, stays, True, ev))
    )
    return Explanation(
        customer_id=str(profile.get("customer_id", "")),
        ruleset_version=ruleset.version,
        event=dict(event),
        score=ev.score,
        level=ev.level.value if ev.level else "none",
        action=ev.suggested_action,
        top_reason=ev.fired[0].rule.id if ev.fired else "",
        churn=tuple(sorted(churn, key=lambda v: not v.fired)),
        signals=tuple(sorted(signals, key=lambda v: not v.fired)),
        tags=ev.tags,
        tiers=tiers,
        qualifies_for=ev.tiers_entered[0].tier if ev.tiers_entered else "",
        strategy=ev.strategy,
        offers=offers,
        chosen=chosen,
        errors=ev.errors,
    )


def parse_at(text: str | None) -> int:
    """Milliseconds of an ISO time (naive means UTC), or of the wall clock when ``text`` is None."""
    if text is None:
        return int(datetime.now(UTC).timestamp() * 1000)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"bad time {text!r}: write ISO 8601, e.g. 2026-03-01T09:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def explain_as_check(
    ruleset: Ruleset, profile: Profile, now_ms: int, probability: ChurnProbability | None = None
) -> Explanation:
    """Explain a profile read as of ``now_ms`` as a silence check at that time would see it."""
    today = datetime.fromtimestamp(now_ms / 1000, tz=UTC).date()
    return explain(ruleset, profile, neutral_event(SILENCE, f"explain:{now_ms}"), today, probability)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)  # 9000.0: shows the reader it is a double
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return (
        str(value).lower()
        if isinstance(value, bool)
        else repr(value)
        if isinstance(value, str)
        else str(value)
    )


def _values(reads: dict[str, Any]) -> str:
    return "  ".join(f"{name}={_value(value)}" for name, value in reads.items())


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    ]


def render_text(x: Explanation) -> str:
    """A table for the terminal: fired rules first, then the rest, with the values each read."""
    event = "silence check (no event)" if x.event.get("type") == SILENCE else f"event {x.event.get('kind')}"
    lines = [
        f"customer {x.customer_id}, ruleset {x.ruleset_version}, {event}",
        f"churn score {x.score:.4f}, level {x.level}"
        + (f", top reason {x.top_reason}" if x.top_reason else ""),
        f"action: {x.action or 'none'}",
        "",
        "CHURN RULES",
        *_table([("FIRED" if v.fired else "-", v.id, v.detail, _values(v.reads)) for v in x.churn]),
        "",
        "SIGNAL RULES",
        *_table([("FIRED" if v.fired else "-", v.id, v.kind, _values(v.reads)) for v in x.signals]),
        "",
        "TIERS",
        *_table([("HOLDS" if v.fired else "-", v.id, v.detail, _values(v.reads)) for v in x.tiers]),
        "",
        f"OFFERS (strategy {x.strategy})",
        *_table(
            [
                (
                    v.decision.upper() + (f" ({v.suppressed_reason})" if v.suppressed_reason else ""),
                    v.id,
                    f"{v.category} p={v.propensity:.2f} score={v.score:g}",
                    _values(v.reads),
                )
                for v in x.offers
            ]
        ),
        "",
        f"tags: {', '.join(x.tags) or 'none'}",
        f"qualifies for tier: {x.qualifies_for or 'none'} (the stored tier changes down only after the hold)",
        f"offer: {', '.join(x.chosen) or 'none'} (before the caps and cool-offs kept in Redis, "
        "which are applied only when an offer is claimed)",
    ]
    fired = [v for v in (*x.churn, *x.signals) if v.fired]
    if fired:
        lines += ["", "WHY", *(f"  {v.id}: {v.message}" for v in fired)]
    if x.errors:
        lines += ["", f"rules that failed to evaluate: {', '.join(x.errors)}"]
    return "\n".join(lines)
