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
from rules.load.conditions import Condition
from rules.load.fired import Context, Fired
from rules.load.model import Offer, TagRule, TierRule
from rules.load.ruleset import Ruleset
from schemas.outputs import ChurnLevel
from schemas.profile.churn_probability import ChurnProbability

log = logging.getLogger(__name__)
LEVEL_ORDER = (ChurnLevel.WATCH, ChurnLevel.ELEVATED, ChurnLevel.HIGH, ChurnLevel.CRITICAL)
#: The reason given for what the customer's own rhythm adds to the churn probability.
RHYTHM_REASON = "churn.rhythm"
#: The profile fields that reason shows as its evidence.
RHYTHM_EVIDENCE = (
    "days_since_active_day",
    "activity_gap_median_days",
    "activity_gap_p90_days",
    "active_days_30d",
    "activity_rate_ratio_30d",
    "p_alive",
)


class Evaluation(NamedTuple):
    """Everything the rules concluded for one event, before cooldowns are applied."""

    context: Context
    results: tuple[bool, ...]  # per condition of the ruleset, in the order of ``Ruleset.conditions``
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
    rhythm: float = 0.0  # log-odds the customer's rhythm adds to the churn probability (0: no model)
    rule_weights: tuple[float, ...] = ()  # log-odds each of ``fired`` adds (with a model), same order

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
    compiled = ruleset.compiled
    slots = compiled.slots
    # Only the fields some condition reads cross into CEL, as one list (the cheapest shape).
    variables = {FIELDS: compiled.field_list.values(profile, event)}
    try:
        values = compiled.combined.execute(variables)
        return (
            [r is True for r in values[slots.conditions]],
            [_clamp(v) for v in values[slots.propensity]],
            [],
        )
    except Exception:  # one bad condition: find it by running each on its own
        errors: list[str] = []
        results = [_run_alone(c, variables, profile, errors) is True for c in compiled.conditions]
        scores = [clamp_propensity(_run_alone(c, variables, profile, errors)) for c in compiled.scores]
        return results, scores, errors


def _run_alone(
    condition: Condition, variables: dict[str, Any], profile: dict[str, Any], errors: list[str]
) -> Any:
    """One condition's own program; None (and its id in ``errors``) when it fails."""
    try:
        return condition.program.execute(variables)
    except Exception as exc:
        log.warning("rule %s failed for customer %s: %s", condition.rule_id, profile.get("customer_id"), exc)
        errors.append(condition.rule_id)
        return None


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


def _probability(
    ruleset: Ruleset, profile: dict[str, Any], fired: list[Fired], churn: ChurnProbability
) -> tuple[float, ChurnLevel | None, str, float, tuple[float, ...]]:
    """Score, level, action, rhythm log-odds and rule log-odds with a fitted churn probability;
    sorts ``fired`` by what each rule adds, largest first."""
    scored = churn.probability(profile, [(f.rule.id, f.rule.weight) for f in fired])  # type: ignore[union-attr]
    added = dict(scored.rules)
    if len(fired) > 1:
        fired.sort(key=lambda f: (-added[f.rule.id], f.rule.id))
    weights = tuple(added[f.rule.id] for f in fired)
    judged = profile["history_days"] >= churn.min_history_days
    level = churn_level(ruleset, scored.probability) if judged else None
    top = fired[0].rule.id if fired and weights[0] >= scored.rhythm else RHYTHM_REASON
    return scored.probability, level, suggested_action(ruleset, level, top), scored.rhythm, weights


def evaluate(
    ruleset: Ruleset,
    profile: dict[str, Any],
    event: dict[str, Any],
    today: date | None = None,
    churn: ChurnProbability | None = None,
) -> Evaluation:
    """Run every rule and offer against ``profile`` and ``event`` in one CEL call.

    ``today``: the trigger's date, for offers' campaign windows (None: windows are not checked).
    ``churn``: the fitted churn probability; without it the score is the noisy-OR of the weights.
    Runs for every event, so the work after the CEL call is kept to slices and zips: each group's
    results are read at its named slot (``Slots``), where the ruleset placed that group.
    """
    results, propensities, errors = _results(ruleset, profile, event)
    compiled = ruleset.compiled
    slots = compiled.slots
    # Fired tuples are built once per ruleset; an event only selects them.
    fired = list(compress(compiled.churn, results[slots.churn]))
    score, level, action = 0.0, None, ""
    rhythm = 0.0
    weights: tuple[float, ...] = ()
    if churn is not None:
        score, level, action, rhythm, weights = _probability(ruleset, profile, fired, churn)
    elif fired:
        if len(fired) > 1:
            fired.sort(key=_weight_order)
        remaining = 1.0
        for f in fired:
            remaining *= 1.0 - f.rule.weight  # type: ignore[union-attr]
        score = round(1.0 - remaining, 6)
        level = churn_level(ruleset, score)
        action = suggested_action(ruleset, level, fired[0].rule.id)
    signals = tuple(compress(compiled.signals, results[slots.signals]))
    stages = list(zip(results[slots.eligible], results[slots.suitable], propensities, strict=True))
    arbitration = arbitrate(
        ruleset.offers, ruleset.strategies, ruleset.contact_policy, profile, event, level, stages, today
    )
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
        tuple(compress(ruleset.tiers, results[slots.tier_when])),
        frozenset(compress(ruleset.tier_names, results[slots.tier_stay])),
        arbitration.strategy,
        tuple(propensities),
        arbitration.decisions,
        rhythm,
        weights,
    )
