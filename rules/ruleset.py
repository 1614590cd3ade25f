"""Load a folder of rule files into one validated, compiled, versioned ruleset.

Every problem is collected (not just the first) and reported with file, line and column; a ruleset
with any problem is rejected whole so a worker never runs half of an edit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rules.expressions import check_expression, references
from rules.model import ChurnPolicy, ChurnRule, ContactPolicy, Offer, RuleFile
from rules.problems import RuleProblem, RulesetError
from rules.yaml_source import Position, YamlDocument, parse_yaml


@dataclass(frozen=True)
class Ruleset:
    """Validated rules with their compiled conditions; immutable so a swap is atomic."""

    version: str
    churn_rules: tuple[ChurnRule, ...]
    offers: tuple[Offer, ...]
    churn_policy: ChurnPolicy
    contact_policy: ContactPolicy
    churn_programs: tuple[Any, ...]
    offer_programs: tuple[Any, ...]
    combined: Any  # one CEL program returning [churn results..., offer results...]
    files: tuple[str, ...]
    reads: dict[str, frozenset[str]]  # root -> fields any condition reads: only these go to CEL


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


def _load_file(path: Path, problems: list[RuleProblem]) -> tuple[RuleFile, YamlDocument] | None:
    name = str(path)
    try:
        doc = parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(RuleProblem(name, 1, 1, f"cannot read: {exc.strerror}"))
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(RuleProblem(name, line, column, f"YAML syntax: {exc.problem}"))
        return None
    if doc.data is None:
        problems.append(RuleProblem(name, 1, 1, "file is empty"))
        return None
    try:
        return RuleFile.model_validate(doc.data), doc
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            pos = doc.position(loc)
            where = ".".join(str(p) for p in loc) or "file"
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}"
            problems.append(RuleProblem(name, pos.line, pos.column, f"{where}: {message}"))
        return None


def _compile(
    name: str, doc: YamlDocument, path: tuple[str | int, ...], source: str, problems: list[RuleProblem]
) -> Any:
    program, found = check_expression(source)
    for problem in found:
        pos = _expression_position(doc, path, problem.line, problem.column)
        problems.append(
            RuleProblem(name, pos.line, pos.column, f"{'.'.join(map(str, path))}: {problem.message}")
        )
    return program


def _version(files: Sequence[RuleFile]) -> str:
    canonical = json.dumps([f.model_dump(mode="json") for f in files], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def load_ruleset(paths: Iterable[Path]) -> Ruleset:
    """Load, validate and compile; raise RulesetError listing every problem."""
    files = rule_files(paths)
    problems: list[RuleProblem] = []
    if not files:
        raise RulesetError([RuleProblem("<rules>", 1, 1, "no rule files found")])
    loaded: list[tuple[Path, RuleFile, YamlDocument]] = []
    for path in files:
        result = _load_file(path, problems)
        if result:
            loaded.append((path, *result))
    churn: list[ChurnRule] = []
    offers: list[Offer] = []
    churn_programs: list[Any] = []
    offer_programs: list[Any] = []
    seen: dict[str, str] = {}
    policies: dict[str, tuple[str, Any]] = {}
    for path, rule_file, doc in loaded:
        name = str(path)
        for section in ("churn_policy", "contact_policy"):
            value = getattr(rule_file, section)
            if value is None:
                continue
            if section in policies:
                pos = doc.position((section,))
                problems.append(
                    RuleProblem(
                        name, pos.line, pos.column, f"{section} is already defined in {policies[section][0]}"
                    )
                )
            policies[section] = (name, value)
        entries: list[tuple[str, int, ChurnRule | Offer]] = [
            *(("rules", i, r) for i, r in enumerate(rule_file.rules)),
            *(("offers", i, o) for i, o in enumerate(rule_file.offers)),
        ]
        for kind, index, item in entries:
            pos = doc.position((kind, index))
            if item.id in seen:
                problems.append(
                    RuleProblem(
                        name,
                        pos.line,
                        pos.column,
                        f"duplicate id {item.id!r} (first defined in {seen[item.id]})",
                    )
                )
            seen[item.id] = f"{name}:{pos.line}"
            if not item.enabled:
                continue
            if isinstance(item, ChurnRule):
                churn.append(item)
                churn_programs.append(_compile(name, doc, (kind, index, "when"), item.when, problems))
            else:
                offers.append(item)
                offer_programs.append(_compile(name, doc, (kind, index, "eligible"), item.eligible, problems))
    if not problems and not churn and not offers:
        problems.append(RuleProblem(str(files[0]), 1, 1, "the ruleset has no enabled rules or offers"))
    if problems:
        raise RulesetError(problems)
    conditions = [r.when for r in churn] + [o.eligible for o in offers]
    combined = check_expression("[" + ",\n".join(f"({c})" for c in conditions) + "]", want_bool=False)[0]
    return Ruleset(
        version=_version([f for _, f, _ in loaded]),
        churn_rules=tuple(churn),
        offers=tuple(offers),
        churn_policy=policies.get("churn_policy", ("", ChurnPolicy()))[1],
        contact_policy=policies.get("contact_policy", ("", ContactPolicy()))[1],
        churn_programs=tuple(churn_programs),
        offer_programs=tuple(offer_programs),
        combined=combined,
        files=tuple(str(f) for f in files),
        reads={
            root: frozenset(name for c in conditions for r, name, _ in references(c) if r == root)
            for root in ("profile", "event")
        },
    )


def check_paths(paths: Iterable[Path]) -> list[RuleProblem]:
    """Every problem in the given files or folders (empty when the ruleset is valid)."""
    try:
        load_ruleset(paths)
    except RulesetError as exc:
        return list(exc.problems)
    return []
