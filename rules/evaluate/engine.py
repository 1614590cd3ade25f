"""Evaluate a compiled ruleset against one profile and event: pure, deterministic, no I/O.

The whole ruleset runs as one CEL call (one program returning every condition's result); only if
that call fails are conditions run one by one, so a single faulty rule cannot silence the others.
"""

from __future__ import annotations

import logging
from datetime import date
from itertools import compress
from typing import Any, NamedTuple

from rules.cel.expressions import FIELDS
from rules.evaluate.arbitration import Candidate, arbitrate, clamp_propensity
from rules.evaluate.fired import Context, Fired
from rules.load.model import Offer, TagRule, TierRule
from rules.load.ruleset import Ruleset
from schemas.outputs import ChurnLevel

log = logging.getLogger(__name__)
LEVEL_ORDER = (ChurnLevel.WATCH, ChurnLevel.ELEVATED, ChurnLevel.HIGH, ChurnLevel.CRITICAL)


class Evaluation(NamedTuple):
    """Everything the rules concluded for one event, before cooldowns are applied."""

    context: Context
    results: tuple[bool, ...]  # per condition of the ruleset, in its order
    fired: tuple[Fired, ...]  # churn rules, largest weight first
    score: float
    level: ChurnLevel | None
    suggested_action: str
    signals: tuple[Fired, ...]  # tag, care, risk and service rules whose condition holds
    candidates: tuple[Candidate, ...]  # offers past every pure stage, best first
    suppressed: tuple[tuple[str, str], ...]  # (offer id, reason) removed by suitability or contact policy
    errors: tuple[str, ...]  # ids of rules whose condition failed to evaluate
    tiers_entered: tuple[TierRule, ...] = ()  # tiers whose `when` holds, highest rank first
    tiers_kept: frozenset[str] = frozenset()  # tier names whose `stay` holds
    strategy: str = "champion"  # the customer's offer strategy (champion or a challenger)
    propensities: tuple[float, ...] = ()  # per offer of the ruleset, clamped to 0..1
    decisions: tuple[str, ...] = ()  # per offer of the ruleset: why it is (not) a candidate

    @property
    def offers(self) -> tuple[Offer, ...]:
        """Candidate offers, best first (caps and cool-offs in Redis still apply)."""
        return tuple(c.offer for c in self.candidates)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(sorted({f.rule.tag for f in self.signals if isinstance(f.rule, TagRule)}))


def _results(
    ruleset: Ruleset, profile: dict[str, Any], event: dict[str, Any]
) -> tuple[list[bool], list[float], list[str]]:
    """Every condition's result and every offer's propensity, from one CEL call when possible."""
    # Only the fields some condition reads cross into CEL, as one list (the cheapest shape).
    variables = {FIELDS: ruleset.field_values(profile, event)}
    n = len(ruleset.conditions)
    try:
        values = ruleset.combined.execute(variables)
        return [r is True for r in values[:n]], [_clamp(v) for v in values[n:]], []
    except Exception:  # one bad condition: find it by running each on its own
        results: list[bool] = []
        scores: list[float] = []
        errors: list[str] = []
        for condition in (*ruleset.conditions, *ruleset.scores):
            try:
                value = condition.program.execute(variables)
            except Exception as exc:
                customer = profile.get("customer_id")
                log.warning("rule %s failed for customer %s: %s", condition.rule_id, customer, exc)
                value = None
                errors.append(condition.rule_id)
            if len(results) < n:
                results.append(value is True)
            else:
                scores.append(clamp_propensity(value))
        return results, scores, errors


def _clamp(value: Any) -> float:
    """clamp_propensity for the usual case of a float, inline (it runs per offer and event)."""
    return min(1.0, max(0.0, value)) if type(value) is float else clamp_propensity(value)


def _weight_order(fired: Fired) -> tuple[float, str]:
    """Churn reasons by contribution: largest weight first, then by id for a stable order."""
    return (-fired.rule.weight, fired.rule.id)  # type: ignore[union-attr]


def churn_level(ruleset: Ruleset, score: float) -> ChurnLevel | None:
    thresholds = ruleset.churn_policy.levels
    for threshold, level in (
        (thresholds.critical, ChurnLevel.CRITICAL),
        (thresholds.high, ChurnLevel.HIGH),
        (thresholds.elevated, ChurnLevel.ELEVATED),
        (thresholds.watch, ChurnLevel.WATCH),
    ):
        if score >= threshold:
            return level
    return None


def level_rank(level: ChurnLevel | None) -> int:
    """0 for no level, 1 for watch ... 4 for critical: alerts are re-sent when this rises."""
    return 0 if level is None else LEVEL_ORDER.index(level) + 1


def suggested_action(ruleset: Ruleset, level: ChurnLevel | None, top_rule: str | None) -> str:
    """The YAML action for this level and top reason, else for this level alone, else none."""
    if level is None:
        return ""
    fallback = ""
    for action in ruleset.churn_policy.actions:
        if action.level is level:
            if action.top_reason == top_rule:
                return action.action
            if action.top_reason is None and not fallback:
                fallback = action.action
    return fallback


def evaluate(
    ruleset: Ruleset, profile: dict[str, Any], event: dict[str, Any], today: date | None = None
) -> Evaluation:
    """Run every rule and offer against ``profile`` and ``event`` in one CEL call.

    ``today``: the trigger's date, for offers' campaign windows (None: windows are not checked).
    Runs for every event, so the work after the CEL call is kept to slices and zips.
    """
    results, propensities, errors = _results(ruleset, profile, event)
    n_churn, n_signal, n_offers = len(ruleset.churn_rules), len(ruleset.signal_rules), len(ruleset.offers)
    first_offer = n_churn + n_signal
    # Fired tuples are built once per ruleset; an event only selects them.
    fired = list(compress(ruleset.churn_fired, results[:n_churn]))
    score, level, action = 0.0, None, ""
    if fired:
        if len(fired) > 1:
            fired.sort(key=_weight_order)
        remaining = 1.0
        for f in fired:
            remaining *= 1.0 - f.rule.weight  # type: ignore[union-attr]
        score = round(1.0 - remaining, 6)
        level = churn_level(ruleset, score)
        action = suggested_action(ruleset, level, fired[0].rule.id)
    signals = tuple(compress(ruleset.signal_fired, results[n_churn:first_offer]))
    eligible = results[first_offer : first_offer + n_offers]
    stages = list(zip(eligible, results[ruleset.first_suitable :], propensities, strict=True))
    arbitration = arbitrate(
        ruleset.offers, ruleset.strategies, ruleset.contact_policy, profile, event, level, stages, today
    )
    first_tier = first_offer + n_offers
    tier_results = results[first_tier : first_tier + 2 * len(ruleset.tiers)]
    return Evaluation(
        {"profile": profile, "event": event},
        tuple(results),
        tuple(fired),
        score,
        level,
        action,
        signals,
        arbitration.candidates,
        arbitration.suppressed,
        tuple(errors),
        tuple(compress(ruleset.tiers, tier_results[0::2])),
        frozenset(compress(ruleset.tier_names, tier_results[1::2])),
        arbitration.strategy,
        tuple(propensities),
        arbitration.decisions,
    )
