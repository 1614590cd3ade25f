"""Validate rule files: schema, ids, conditions, policies, tiers and strategies, every problem at once.

Every problem is collected (not just the first) and reported with file, line and column; a ruleset
with any problem is rejected whole so a worker never runs half of an edit.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from rules.cel.expressions import check_expression, default_context
from rules.load.model import (
    ChurnPolicy,
    ChurnRule,
    ContactPolicy,
    Offer,
    RuleFile,
    SignalKindRule,
    SignalRule,
    Strategies,
    TierPolicy,
    TierRule,
)
from rules.load.problems import RuleProblem, RulesetError
from rules.load.yaml_source import Position, YamlDocument, read_document
from schemas.profile.fields import PROFILE_FIELDS

_KINDS = "churn, tag, care, risk, service, tier"

Entry = ChurnRule | SignalKindRule | Offer | TierRule


@dataclass(frozen=True)
class ValidRules:
    """What passed validation: the parsed files and their enabled entries, grouped by kind."""

    files: tuple[RuleFile, ...]  # in the order given: the ruleset's version hashes them
    churn_rules: tuple[ChurnRule, ...]
    signal_rules: tuple[SignalKindRule, ...]  # tag, care, risk and service rules
    offers: tuple[Offer, ...]
    tiers: tuple[TierRule, ...]  # highest rank first
    churn_policy: ChurnPolicy
    contact_policy: ContactPolicy
    tier_policy: TierPolicy
    strategies: Strategies


def _expression_position(doc: YamlDocument, path: tuple[str | int, ...], line: int, column: int) -> Position:
    start = doc.values.get(path, doc.position(path))
    if start.style in ("|", ">"):
        return Position(start.line + line, column + 2)
    quote = 1 if start.style in ("'", '"') else 0
    if line == 1:
        return Position(start.line, start.column + quote + column - 1)
    return Position(start.line + line - 1, column)


def _message(error: Any) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {loc[-1]!r}"
    if kind == "union_tag_not_found":
        return f"missing 'kind': one of {_KINDS}"
    if kind == "union_tag_invalid":
        return f"unknown kind {error['ctx']['tag']!r}: one of {_KINDS}"
    return str(error["msg"])


def _parse_file(name: str, text: str, problems: list[RuleProblem]) -> tuple[RuleFile, YamlDocument] | None:
    doc = read_document(name, text, problems)
    if doc is None:
        return None
    try:
        return RuleFile.model_validate(doc.data), doc
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            # a discriminated union adds the kind to the location: drop it to find the YAML node
            tagged = len(loc) > 2 and loc[0] == "rules" and loc[2] in _KINDS.split(", ")
            yaml_loc = loc[:2] + loc[3:] if tagged else loc
            pos = doc.position(yaml_loc)
            where = ".".join(str(p) for p in yaml_loc) or "file"
            problems.append(RuleProblem(name, pos.line, pos.column, f"{where}: {_message(error)}"))
        return None


def _check_condition(
    name: str, doc: YamlDocument, path: tuple[str | int, ...], source: str, problems: list[RuleProblem]
) -> None:
    """Check ``source`` against the catalogue, reporting problems at their place in the YAML file."""
    _, found = check_expression(source)
    for problem in found:
        pos = _expression_position(doc, path, problem.line, problem.column)
        problems.append(
            RuleProblem(name, pos.line, pos.column, f"{'.'.join(map(str, path))}: {problem.message}")
        )


def _check_score(
    name: str, doc: YamlDocument, path: tuple[str | int, ...], source: str, problems: list[RuleProblem]
) -> None:
    """Check a propensity: a CEL number (int or double) the ranking can multiply."""
    program, found = check_expression(source, want_bool=False)
    for problem in found:
        pos = _expression_position(doc, path, problem.line, problem.column)
        problems.append(
            RuleProblem(name, pos.line, pos.column, f"{'.'.join(map(str, path))}: {problem.message}")
        )
    if program is None:
        return
    result = program.execute(default_context())
    if isinstance(result, bool) or not isinstance(result, int | float):
        pos = doc.values.get(path, doc.position(path))
        message = f"must be a number 0..1, but gives {type(result).__name__}"
        problems.append(RuleProblem(name, pos.line, pos.column, f"{'.'.join(map(str, path))}: {message}"))


def _entries(rule_file: RuleFile) -> list[tuple[str, int, Entry]]:
    return [
        *(("rules", i, r) for i, r in enumerate(rule_file.rules)),
        *(("offers", i, o) for i, o in enumerate(rule_file.offers)),
    ]


def _check_entry(
    name: str, doc: YamlDocument, section: str, index: int, entry: Entry, problems: list[RuleProblem]
) -> None:
    """Check every expression of an enabled entry, and a signal rule's ``per`` field."""
    if isinstance(entry, Offer):
        _check_condition(name, doc, (section, index, "eligible"), entry.eligible, problems)
        _check_condition(name, doc, (section, index, "suitable"), entry.suitable, problems)
        _check_score(name, doc, (section, index, "propensity"), entry.propensity, problems)
        return
    _check_condition(name, doc, (section, index, "when"), entry.when, problems)
    if isinstance(entry, TierRule):
        _check_condition(name, doc, (section, index, "stay"), entry.stay, problems)
    per = entry.per_field if isinstance(entry, SignalRule) else None
    profile_names = [spec.name for spec in PROFILE_FIELDS]
    if per is not None and per not in profile_names:
        pos = doc.position((section, index, "per"))
        close = difflib.get_close_matches(per, profile_names, n=1)
        hint = f"; did you mean profile.{close[0]}?" if close else ""
        message = f"{section}.{index}.per: unknown field profile.{per}{hint}"
        problems.append(RuleProblem(name, pos.line, pos.column, message))


def validate(sources: Sequence[tuple[str, str]]) -> ValidRules:
    """Parse and check rule files given as (name, text); raise RulesetError listing every problem."""
    problems: list[RuleProblem] = []
    if not sources:
        raise RulesetError([RuleProblem("<rules>", 1, 1, "no rule files found")])
    loaded: list[tuple[str, RuleFile, YamlDocument]] = []
    for name, text in sources:
        result = _parse_file(name, text, problems)
        if result:
            loaded.append((name, *result))
    enabled: list[Entry] = []
    seen: dict[str, str] = {}
    where: dict[str, tuple[str, int, int]] = {}
    policies: dict[str, tuple[str, Any]] = {}
    for name, rule_file, doc in loaded:
        for section in ("churn_policy", "contact_policy", "tier_policy", "strategies"):
            value = getattr(rule_file, section)
            if value is None:
                continue
            if section in policies:
                pos = doc.position((section,))
                message = f"{section} is already defined in {policies[section][0]}"
                problems.append(RuleProblem(name, pos.line, pos.column, message))
            policies[section] = (name, value)
        for section, index, entry in _entries(rule_file):
            pos = doc.position((section, index))
            if entry.id in seen:
                message = f"duplicate id {entry.id!r} (first defined in {seen[entry.id]})"
                problems.append(RuleProblem(name, pos.line, pos.column, message))
            seen[entry.id] = f"{name}:{pos.line}"
            where[entry.id] = (name, pos.line, pos.column)
            if entry.enabled:
                _check_entry(name, doc, section, index, entry, problems)
                enabled.append(entry)
    if not problems and not enabled:
        problems.append(RuleProblem(sources[0][0], 1, 1, "the ruleset has no enabled rules or offers"))
    if problems:
        raise RulesetError(problems)
    churn = [e for e in enabled if isinstance(e, ChurnRule)]
    signals = [e for e in enabled if not isinstance(e, ChurnRule | Offer | TierRule)]
    offers = [e for e in enabled if isinstance(e, Offer)]
    tiers = sorted((e for e in enabled if isinstance(e, TierRule)), key=lambda t: -t.rank)
    _check_tiers(tiers, where, problems)
    strategies = policies.get("strategies", ("", Strategies()))
    _check_strategies(strategies, {o.id for o in offers}, loaded, problems)
    if problems:
        raise RulesetError(problems)
    return ValidRules(
        files=tuple(f for _, f, _ in loaded),
        churn_rules=tuple(churn),
        signal_rules=tuple(signals),
        offers=tuple(offers),
        tiers=tuple(tiers),
        churn_policy=policies.get("churn_policy", ("", ChurnPolicy()))[1],
        contact_policy=policies.get("contact_policy", ("", ContactPolicy()))[1],
        tier_policy=policies.get("tier_policy", ("", TierPolicy()))[1],
        strategies=strategies[1],
    )


def _check_strategies(
    found: tuple[str, Strategies],
    offer_ids: set[str],
    loaded: list[tuple[str, RuleFile, YamlDocument]],
    problems: list[RuleProblem],
) -> None:
    """Strategies may only name enabled offers (a typo would silently drop an offer from a test)."""
    name, strategies = found
    doc = next((d for n, _, d in loaded if n == name), None)
    for strategy in (strategies.champion, *strategies.challengers):
        for offer_id in (*strategy.offers, *strategy.levers):
            if offer_id not in offer_ids:
                pos = doc.position(("strategies",)) if doc else Position(1, 1)
                message = f"strategies: {strategy.name} names unknown or disabled offer {offer_id!r}"
                problems.append(RuleProblem(name or "<rules>", pos.line, pos.column, message))


def _check_tiers(
    tiers: list[TierRule], where: dict[str, tuple[str, int, int]], problems: list[RuleProblem]
) -> None:
    """Tiers need distinct names and ranks; the lowest one is everyone's default, so it must say true."""
    ranks: dict[int, str] = {}
    names: dict[str, str] = {}
    for tier in tiers:
        file, line, column = where[tier.id]
        if tier.rank in ranks:
            message = f"{tier.id}: rank {tier.rank} is also used by {ranks[tier.rank]}"
            problems.append(RuleProblem(file, line, column, message))
        if tier.tier in names:
            message = f"{tier.id}: tier {tier.tier!r} is also used by {names[tier.tier]}"
            problems.append(RuleProblem(file, line, column, message))
        ranks[tier.rank] = names[tier.tier] = tier.id
    if tiers and tiers[-1].when.strip() != "true":
        file, line, column = where[tiers[-1].id]
        message = f"{tiers[-1].id}: the lowest tier is the default, so its `when` must be true"
        problems.append(RuleProblem(file, line, column, message))
