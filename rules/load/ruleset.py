"""Load a folder of rule files into one validated, compiled, versioned ruleset.

Every problem is collected (not just the first) and reported with file, line and column; a ruleset
with any problem is rejected whole so a worker never runs half of an edit.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import cel
from pydantic import ValidationError

from rules.cel.expressions import check_expression, default_context, flatten, references
from rules.cel.field_list import FieldList
from rules.evaluate.fired import Fired
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

PROFILE_NAMES = [spec.name for spec in PROFILE_FIELDS]


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled condition: which rule it belongs to and which fields it reads."""

    rule_id: str
    source: str
    reads: tuple[tuple[str, str], ...]  # (root, field) in first-read order
    program: Any  # compiled on the ruleset's field list, used alone only when the combined call fails


@dataclass(frozen=True)
class Ruleset:
    """Validated rules with their compiled conditions; immutable so a swap is atomic."""

    version: str
    churn_rules: tuple[ChurnRule, ...]
    signal_rules: tuple[SignalKindRule, ...]
    offers: tuple[Offer, ...]
    churn_policy: ChurnPolicy
    contact_policy: ContactPolicy
    tier_policy: TierPolicy
    tiers: tuple[TierRule, ...]  # highest rank first
    #: churn rules, signal rules, offers' `eligible`, per tier `when` and `stay`, offers' `suitable`
    conditions: tuple[Condition, ...]
    scores: tuple[Condition, ...]  # per offer its `propensity` (a number, not a condition)
    combined: Any  # one CEL program over the field list returning every condition's result, then every score
    strategies: Strategies
    field_list: FieldList  # every field some condition reads, as the one CEL list variable
    files: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]  # (file name, text): what was published or read

    @property
    def rule_count(self) -> int:
        return len(self.conditions)

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """(root, field) of each element of the field list."""
        return self.field_list.fields

    def field_values(self, profile: dict[str, Any], event: dict[str, Any]) -> list[Any]:
        """The field list every compiled condition reads (the CEL variable ``FIELDS``)."""
        return self.field_list.values(profile, event)

    @cached_property
    def churn_fired(self) -> tuple[Fired, ...]:
        """One Fired per churn rule, in ruleset order: an evaluation selects from these."""
        return tuple(Fired(r, c) for r, c in zip(self.churn_rules, self.conditions, strict=False))

    @cached_property
    def signal_fired(self) -> tuple[Fired, ...]:
        """One Fired per tag, care, risk and service rule, in ruleset order."""
        first = len(self.churn_rules)
        return tuple(Fired(r, c) for r, c in zip(self.signal_rules, self.conditions[first:], strict=False))

    @cached_property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.tier for t in self.tiers)

    @cached_property
    def tiers_by_name(self) -> dict[str, TierRule]:
        """Tier rules by tier name (looked up for every event's tier decision)."""
        return {t.tier: t for t in self.tiers}

    @property
    def first_suitable(self) -> int:
        """Index in ``conditions`` of the first offer's suitability."""
        return len(self.conditions) - len(self.offers)


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to their ``*.yaml``/``*.yml`` files (not the ``tests`` subfolder)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        else:
            found.append(path)
    return found


def _expression_position(doc: YamlDocument, path: tuple[str | int, ...], line: int, column: int) -> Position:
    start = doc.values.get(path, doc.position(path))
    if start.style in ("|", ">"):
        return Position(start.line + line, column + 2)
    quote = 1 if start.style in ("'", '"') else 0
    if line == 1:
        return Position(start.line, start.column + quote + column - 1)
    return Position(start.line + line - 1, column)


_KINDS = "churn, tag, care, risk, service, tier"


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


def _compile(
    name: str, doc: YamlDocument, path: tuple[str | int, ...], source: str, problems: list[RuleProblem]
) -> None:
    """Check ``source`` against the catalogue, reporting problems at their place in the YAML file."""
    _, found = check_expression(source)
    for problem in found:
        pos = _expression_position(doc, path, problem.line, problem.column)
        problems.append(
            RuleProblem(name, pos.line, pos.column, f"{'.'.join(map(str, path))}: {problem.message}")
        )


def _compile_score(
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


def _version(files: Sequence[RuleFile]) -> str:
    canonical = json.dumps([f.model_dump(mode="json") for f in files], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def read_sources(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(file name, text) of every rule file under ``paths``, as ``load_sources`` takes them."""
    files = rule_files(paths)
    if not files:
        raise RulesetError([RuleProblem("<rules>", 1, 1, "no rule files found")])
    sources: list[tuple[str, str]] = []
    problems: list[RuleProblem] = []
    for path in files:
        try:
            sources.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(RuleProblem(str(path), 1, 1, f"cannot read: {exc}"))
    if problems:
        raise RulesetError(problems)
    return sources


def load_ruleset(paths: Iterable[Path]) -> Ruleset:
    """Load, validate and compile the rule files under ``paths``; raise RulesetError listing every problem."""
    return load_sources(read_sources(paths))


Entry = ChurnRule | SignalKindRule | Offer | TierRule


def _entries(rule_file: RuleFile) -> list[tuple[str, int, Entry]]:
    return [
        *(("rules", i, r) for i, r in enumerate(rule_file.rules)),
        *(("offers", i, o) for i, o in enumerate(rule_file.offers)),
    ]


def _condition_of(entry: Entry) -> tuple[str, str]:
    return ("eligible", entry.eligible) if isinstance(entry, Offer) else ("when", entry.when)


def load_sources(sources: Sequence[tuple[str, str]]) -> Ruleset:
    """Validate and compile rule files given as (name, text): from disk or from the control topic."""
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
                key, source = _condition_of(entry)
                _compile(name, doc, (section, index, key), source, problems)
                if isinstance(entry, TierRule):
                    _compile(name, doc, (section, index, "stay"), entry.stay, problems)
                per = entry.per_field if isinstance(entry, SignalRule) else None
                if per is not None and per not in PROFILE_NAMES:
                    ppos = doc.position((section, index, "per"))
                    close = difflib.get_close_matches(per, PROFILE_NAMES, n=1)
                    hint = f"; did you mean profile.{close[0]}?" if close else ""
                    message = f"{section}.{index}.per: unknown field profile.{per}{hint}"
                    problems.append(RuleProblem(name, ppos.line, ppos.column, message))
                if isinstance(entry, Offer):
                    _compile(name, doc, (section, index, "suitable"), entry.suitable, problems)
                    _compile_score(name, doc, (section, index, "propensity"), entry.propensity, problems)
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
    conditions = tuple(
        [_condition(e) for e in (*churn, *signals, *offers)]
        + [c for t in tiers for c in (_condition(t), _condition(t, stay=True))]
        + [_part(o.id, "suitable", o.suitable) for o in offers]
    )
    scores = tuple(_part(o.id, "propensity", o.propensity) for o in offers)
    field_list = FieldList(read for c in (*conditions, *scores) for read in c.reads)
    slot = field_list.reference
    conditions = tuple(_with_program(c, slot) for c in conditions)
    scores = tuple(_with_program(c, slot) for c in scores)
    entries = ",\n".join(f"({flatten(c.source, slot)})" for c in (*conditions, *scores))
    combined = cel.compile(f"[{entries}]")
    return Ruleset(
        version=_version([f for _, f, _ in loaded]),
        churn_rules=tuple(churn),
        signal_rules=tuple(signals),
        offers=tuple(offers),
        churn_policy=policies.get("churn_policy", ("", ChurnPolicy()))[1],
        contact_policy=policies.get("contact_policy", ("", ContactPolicy()))[1],
        tier_policy=policies.get("tier_policy", ("", TierPolicy()))[1],
        tiers=tuple(tiers),
        conditions=conditions,
        scores=scores,
        combined=combined,
        strategies=strategies[1],
        field_list=field_list,
        files=tuple(name for name, _ in sources),
        sources=tuple(sources),
    )


def _condition(entry: Entry, stay: bool = False) -> Condition:
    source = entry.stay if stay and isinstance(entry, TierRule) else _condition_of(entry)[1]
    return _part(entry.id, "stay" if stay else "", source)


def _part(entry_id: str, part: str, source: str) -> Condition:
    """A condition, or an offer's suitability or propensity (named ``<offer id>#<part>``)."""
    reads = tuple(dict.fromkeys((root, name) for root, name, _ in references(source)))
    return Condition(f"{entry_id}#{part}" if part else entry_id, source, reads, None)


def _with_program(condition: Condition, slot: Callable[[str, str], str]) -> Condition:
    return replace(condition, program=cel.compile(flatten(condition.source, slot)))


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
