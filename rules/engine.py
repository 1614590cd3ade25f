"""Evaluate a compiled ruleset against one profile and event: pure, deterministic, no I/O.

The whole ruleset runs as one CEL call (one program returning every condition's result); only if
that call fails are conditions run one by one, so a single faulty rule cannot silence the others.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel

from rules.expressions import references
from rules.model import ChurnRule, Offer
from rules.ruleset import Ruleset
from schemas.outputs import ChurnLevel, EvidenceValue

log = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"\{(profile|event)\.([A-Za-z_][A-Za-z0-9_]*)\}")
_LEVEL_ORDER = (ChurnLevel.WATCH, ChurnLevel.ELEVATED, ChurnLevel.HIGH, ChurnLevel.CRITICAL)


@dataclass(frozen=True, slots=True)
class FiredRule:
    rule: ChurnRule
    message: str
    evidence: dict[str, EvidenceValue]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Everything the rules concluded for one event, before cooldowns are applied."""

    fired: tuple[FiredRule, ...]
    score: float
    level: ChurnLevel | None
    suggested_action: str
    offers: tuple[Offer, ...]  # eligible, allowed by contact policy, best first
    suppressed: tuple[tuple[str, str], ...]  # (offer id, reason) removed by contact policy
    errors: tuple[str, ...]  # ids of rules whose condition failed to evaluate
    offer_reasons: dict[str, str]  # offer id -> rendered reason text


@lru_cache(maxsize=4096)
def _read_fields(source: str) -> tuple[tuple[str, str], ...]:
    seen: dict[tuple[str, str], None] = {}
    for root, name, _ in references(source):
        seen[(root, name)] = None
    return tuple(seen)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def render(template: str, context: dict[str, dict[str, Any]]) -> str:
    """Fill ``{profile.x}`` / ``{event.x}`` placeholders of a reason text."""
    return _PLACEHOLDER.sub(lambda m: _format(context[m.group(1)].get(m.group(2), "?")), template)


def evidence(source: str, context: dict[str, dict[str, Any]]) -> dict[str, EvidenceValue]:
    """The value of each field a condition reads, keyed ``profile.x`` / ``event.x``."""
    return {f"{root}.{name}": context[root].get(name) for root, name in _read_fields(source)}


def _results(ruleset: Ruleset, context: dict[str, dict[str, Any]]) -> tuple[list[bool], list[str]]:
    # Only the fields some condition reads cross into CEL, wrapped in a Context (cheaper than a dict).
    reduced = cel.Context(
        {root: {name: context[root][name] for name in names} for root, names in ruleset.reads.items()}
    )
    try:
        return [bool(r) for r in ruleset.combined.execute(reduced)], []
    except Exception:  # one bad condition: find it by running each on its own
        programs = (*ruleset.churn_programs, *ruleset.offer_programs)
        ids = [r.id for r in ruleset.churn_rules] + [o.id for o in ruleset.offers]
        results: list[bool] = []
        errors: list[str] = []
        for rule_id, program in zip(ids, programs, strict=True):
            try:
                results.append(bool(program.execute(reduced)))
            except Exception as exc:
                log.warning(
                    "rule %s failed for customer %s: %s", rule_id, context["profile"].get("customer_id"), exc
                )
                results.append(False)
                errors.append(rule_id)
        return results, errors


def churn_level(ruleset: Ruleset, score: float) -> ChurnLevel | None:
    thresholds = ruleset.churn_policy.levels
    level = None
    for candidate in _LEVEL_ORDER:
        if score >= getattr(thresholds, candidate.value):
            level = candidate
    return level


def _action(ruleset: Ruleset, level: ChurnLevel | None, top_rule: str | None) -> str:
    if level is None:
        return ""
    actions = [a for a in ruleset.churn_policy.actions if a.level == level]
    for action in actions:
        if action.top_reason == top_rule:
            return action.action
    return next((a.action for a in actions if a.top_reason is None), "")


def evaluate(ruleset: Ruleset, profile: dict[str, Any], event: dict[str, Any]) -> Evaluation:
    """Run every rule and offer against ``profile`` and ``event``."""
    context = {"profile": profile, "event": event}
    results, errors = _results(ruleset, context)
    n_churn = len(ruleset.churn_rules)
    fired = [
        FiredRule(rule, render(rule.reason, context), evidence(rule.when, context))
        for rule, hit in zip(ruleset.churn_rules, results[:n_churn], strict=True)
        if hit
    ]
    fired.sort(key=lambda f: (-f.rule.weight, f.rule.id))
    remaining = 1.0
    for f in fired:
        remaining *= 1.0 - f.rule.weight
    score = round(1.0 - remaining, 6)
    level = churn_level(ruleset, score) if fired else None
    action = _action(ruleset, level, fired[0].rule.id if fired else None)
    eligible = [o for o, hit in zip(ruleset.offers, results[n_churn:], strict=True) if hit]
    offers, suppressed = _contact_policy(ruleset, profile, event, level, eligible)
    reasons = {o.id: render(o.reason, context) for o in offers}
    return Evaluation(tuple(fired), score, level, action, offers, suppressed, tuple(errors), reasons)


def _contact_policy(
    ruleset: Ruleset,
    profile: dict[str, Any],
    event: dict[str, Any],
    level: ChurnLevel | None,
    eligible: list[Offer],
) -> tuple[tuple[Offer, ...], tuple[tuple[str, str], ...]]:
    policy = ruleset.contact_policy
    allowed: list[Offer] = []
    suppressed: list[tuple[str, str]] = []
    for offer in eligible:
        if offer.triggers and event.get("kind") not in offer.triggers:
            continue
        if policy.require_marketing_consent and not profile.get("marketing_consent"):
            suppressed.append((offer.id, "no_consent"))
        elif policy.block_when_complaint_open and profile.get("complaints_open", 0) > 0:
            suppressed.append((offer.id, "complaint_open"))
        elif offer.category == "sales" and level in policy.block_sales_at_levels:
            suppressed.append((offer.id, "churn_risk"))
        else:
            allowed.append(offer)
    allowed.sort(key=lambda o: (-(o.value * o.priority), o.id))
    return tuple(allowed), tuple(suppressed)
