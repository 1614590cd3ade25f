"""Rule tests: YAML cases beside the rules that pin down what the rules conclude for a customer.

An analyst changing a threshold sees at once which agreed behaviours changed, before publishing.
Test files are validated like rule files, every problem reported as ``file:line:column: message``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rules.evaluate.engine import Evaluation, evaluate
from rules.load.files import yaml_files
from rules.load.problems import RuleProblem, RulesetError
from rules.load.ruleset import Ruleset, load_ruleset
from rules.load.yaml_source import YamlDocument, read_document
from rules.tools.case_context import FieldProblem, complete_event, complete_profile

Level = Literal["none", "watch", "elevated", "high", "critical"]
SuppressReason = Literal["not_suitable", "no_consent", "complaint_open", "risk_open", "churn_risk"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoreRange(_Strict):
    """Bounds (inclusive) the churn score must fall within."""

    min: float = Field(0.0, ge=0, le=1, description="Lowest accepted churn score.")
    max: float = Field(1.0, ge=0, le=1, description="Highest accepted churn score.")

    @model_validator(mode="after")
    def _ordered(self) -> ScoreRange:
        if self.min > self.max:
            raise ValueError("score.min must not exceed score.max")
        return self


class Expect(_Strict):
    """What must be true of the evaluation; only the keys written are checked."""

    fires: list[str] = Field(
        default_factory=list, description="Rule or offer ids whose condition must hold (offers: eligible)."
    )
    not_fires: list[str] = Field(
        default_factory=list, description="Rule or offer ids whose condition must not hold."
    )
    level: Level | None = Field(None, description="Churn level, `none` when below watch.")
    score: ScoreRange | None = Field(None, description="Churn score bounds, e.g. {min: 0.4, max: 0.6}.")
    action: str | None = Field(None, description="Exact suggested retention action.")
    offer: str | None = Field(None, description="Best offer after the contact policy, or `none`.")
    tags: list[str] | None = Field(None, description="Exactly these customer tags ([] for none).")
    suppressed: dict[str, SuppressReason] | None = Field(
        None,
        description="Offers suitability or the contact policy must suppress, with the reason "
        "(caps and cool-offs need the offer log in Redis: tested in tests/unit/agents/test_offers.py).",
    )
    strategy: str | None = Field(
        None, description="The customer's offer strategy (a stable hash of `profile.customer_id`)."
    )

    @model_validator(mode="after")
    def _meaningful(self) -> Expect:
        if not any(getattr(self, name) for name in ("fires", "not_fires")) and all(
            getattr(self, name) is None
            for name in ("level", "score", "action", "offer", "tags", "suppressed", "strategy")
        ):
            raise ValueError("expect checks nothing: give fires, not_fires, level, score, offer, tags, ...")
        both = set(self.fires) & set(self.not_fires)
        if both:
            raise ValueError(f"both in fires and not_fires: {', '.join(sorted(both))}")
        return self


class RuleCase(_Strict):
    """One customer situation and what the rules must conclude for it."""

    name: str = Field(min_length=1, max_length=200, description="Short, unique within the file.")
    description: str = Field("", max_length=1000, description="Why this case matters (optional).")
    profile: dict[str, Any] = Field(
        default_factory=dict, description="Profile fields that differ from a customer with no history."
    )
    event: dict[str, Any] = Field(
        default_factory=dict, description="Event fields; none given means a silence check (no event)."
    )
    date: dt.date | None = Field(None, description="The event's date, for offers' campaign windows.")
    expect: Expect


class RuleTestFile(_Strict):
    cases: list[RuleCase] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class LoadedCase:
    """A validated case with its complete profile and event."""

    file: str
    line: int
    case: RuleCase
    profile: dict[str, Any]
    event: dict[str, Any]

    @property
    def test_id(self) -> str:
        return f"{self.file}::{self.case.name}"


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: LoadedCase
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def _schema_message(error: Any) -> str:
    loc = ".".join(str(p) for p in error["loc"]) or "file"
    if error["type"] == "extra_forbidden":
        return f"{loc}: unknown key {error['loc'][-1]!r}"
    return f"{loc}: {error['msg']}"


def _parse(name: str, text: str, problems: list[RuleProblem]) -> tuple[RuleTestFile, YamlDocument] | None:
    doc = read_document(name, text, problems)
    if doc is None:
        return None
    try:
        return RuleTestFile.model_validate(doc.data), doc
    except ValidationError as exc:
        for error in exc.errors():
            pos = doc.position(tuple(error["loc"]))
            problems.append(RuleProblem(name, pos.line, pos.column, _schema_message(error)))
        return None


def _known_ids(ruleset: Ruleset) -> dict[str, str]:
    """Rule or offer id -> kind, for every enabled entry of the ruleset."""
    known: dict[str, str] = {rule.id: "churn" for rule in ruleset.churn_rules}
    known.update({rule.id: rule.kind for rule in ruleset.signal_rules})
    known.update({offer.id: "offer" for offer in ruleset.offers})
    known.update({f"{offer.id}#suitable": "offer" for offer in ruleset.offers})
    for tier in ruleset.tiers:  # a tier has two conditions: entering (`id`) and staying (`id#stay`)
        known.update({tier.id: "tier", f"{tier.id}#stay": "tier"})
    return known


def _check_ids(
    name: str, doc: YamlDocument, index: int, case: RuleCase, ruleset: Ruleset
) -> list[RuleProblem]:
    known = _known_ids(ruleset)
    offers = {offer.id for offer in ruleset.offers}
    found: list[RuleProblem] = []
    base = ("cases", index, "expect")

    def unknown(path: tuple[str | int, ...], rule_id: str, choices: Iterable[str], what: str) -> None:
        full = (*base, *path)
        pos = doc.values.get(full, doc.position(full))
        close = difflib.get_close_matches(rule_id, list(choices), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        found.append(RuleProblem(name, pos.line, pos.column, f"unknown {what} {rule_id!r}{hint}"))

    for key in ("fires", "not_fires"):
        for i, rule_id in enumerate(getattr(case.expect, key)):
            if rule_id not in known:
                unknown((key, i), rule_id, known, "(or disabled) rule id")
    offer = case.expect.offer
    if offer is not None and offer != "none" and offer not in offers:
        unknown(("offer",), offer, offers, "offer id")
    for offer_id in case.expect.suppressed or {}:
        if offer_id not in offers:
            unknown(("suppressed", offer_id), offer_id, offers, "offer id")
    return found


def load_cases(
    sources: Sequence[tuple[str, str]], ruleset: Ruleset
) -> tuple[list[LoadedCase], list[RuleProblem]]:
    """Validate test files given as (name, text) against ``ruleset``; return cases and problems."""
    cases: list[LoadedCase] = []
    problems: list[RuleProblem] = []
    for name, text in sources:
        parsed = _parse(name, text, problems)
        if parsed is None:
            continue
        test_file, doc = parsed
        seen: set[str] = set()
        for index, case in enumerate(test_file.cases):
            pos = doc.position(("cases", index))
            if case.name in seen:
                problems.append(RuleProblem(name, pos.line, pos.column, f"duplicate case name {case.name!r}"))
            seen.add(case.name)
            problems.extend(_check_ids(name, doc, index, case, ruleset))
            try:
                profile = complete_profile(case.profile)
            except FieldProblem as exc:
                at = doc.position(("cases", index, "profile", exc.field))
                problems.append(RuleProblem(name, at.line, at.column, str(exc)))
                continue
            try:
                event = complete_event(case.event)
            except FieldProblem as exc:
                at = doc.position(("cases", index, "event", exc.field))
                problems.append(RuleProblem(name, at.line, at.column, str(exc)))
                continue
            cases.append(LoadedCase(name, pos.line, case, profile, event))
    return cases, problems


def _display(path: Path) -> str:
    """The path relative to the working folder when inside it: short, and clickable in editors."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_cases(paths: Iterable[Path], ruleset: Ruleset) -> tuple[list[LoadedCase], list[RuleProblem]]:
    """Cases from the test files under ``paths`` (folders expanded)."""
    sources: list[tuple[str, str]] = []
    problems: list[RuleProblem] = []
    for path in yaml_files(paths):
        try:
            sources.append((_display(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(RuleProblem(str(path), 1, 1, f"cannot read: {exc}"))
    cases, found = load_cases(sources, ruleset)
    return cases, problems + found


def _reads(ruleset: Ruleset, rule_id: str, evaluation: Evaluation) -> str:
    condition = next(c for c in ruleset.conditions if c.rule_id == rule_id)
    values = (f"{root}.{name}={evaluation.context[root].get(name)!r}" for root, name in condition.reads)
    return ", ".join(values) or "no fields"


def check_case(ruleset: Ruleset, loaded: LoadedCase) -> CaseResult:
    """Evaluate one case and describe every expectation that does not hold."""
    evaluation = evaluate(ruleset, loaded.profile, loaded.event, loaded.case.date)
    expect = loaded.case.expect
    held = {c.rule_id: r for c, r in zip(ruleset.conditions, evaluation.results, strict=True)}
    failures = [f"{rule_id} failed to evaluate (see the worker log)" for rule_id in evaluation.errors]
    for rule_id in expect.fires:
        if not held[rule_id]:
            failures.append(f"{rule_id} did not fire (read {_reads(ruleset, rule_id, evaluation)})")
    for rule_id in expect.not_fires:
        if held[rule_id]:
            failures.append(f"{rule_id} fired (read {_reads(ruleset, rule_id, evaluation)})")
    level = evaluation.level.value if evaluation.level else "none"
    if expect.level is not None and expect.level != level:
        failures.append(f"level is {level} (score {evaluation.score:.4f}), expected {expect.level}")
    if expect.score is not None and not expect.score.min <= evaluation.score <= expect.score.max:
        failures.append(f"score is {evaluation.score:.4f}, expected {expect.score.min}..{expect.score.max}")
    if expect.action is not None and expect.action != evaluation.suggested_action:
        failures.append(f"action is {evaluation.suggested_action or 'none'!r}, expected {expect.action!r}")
    offer = evaluation.offers[0].id if evaluation.offers else "none"
    if expect.offer is not None and expect.offer != offer:
        suppressed = ", ".join(f"{o} ({why})" for o, why in evaluation.suppressed) or "none"
        failures.append(f"offer is {offer}, expected {expect.offer} (suppressed: {suppressed})")
    if expect.tags is not None and sorted(expect.tags) != list(evaluation.tags):
        failures.append(f"tags are {list(evaluation.tags)}, expected {sorted(expect.tags)}")
    if expect.strategy is not None and expect.strategy != evaluation.strategy:
        failures.append(f"strategy is {evaluation.strategy}, expected {expect.strategy}")
    actual = dict(evaluation.suppressed)
    for offer_id, reason in (expect.suppressed or {}).items():
        if actual.get(offer_id) != reason:
            failures.append(f"{offer_id} suppressed for {actual.get(offer_id, 'nothing')}, expected {reason}")
    return CaseResult(loaded, tuple(failures))


def run_cases(ruleset: Ruleset, cases: Iterable[LoadedCase]) -> list[CaseResult]:
    return [check_case(ruleset, case) for case in cases]


def describe(result: CaseResult) -> str:
    """One line per case, like a test runner; failures indented below it."""
    head = f"{'PASS' if result.passed else 'FAIL'} {result.case.test_id}"
    return "\n".join([head, *(f"    {failure}" for failure in result.failures)])


def run_suite(rules_dir: Path, paths: Sequence[Path], echo: Callable[[str, bool], None]) -> bool:
    """Load the rules, run every case under ``paths`` (default ``rules_dir/tests``); True when all pass.

    ``echo(text, is_error)`` prints; invalid rule or test files count as failures.
    """
    try:
        ruleset = load_ruleset([rules_dir])
    except RulesetError as exc:
        for problem in exc.problems:
            echo(str(problem), True)
        echo(f"the rules have {len(exc.problems)} problem(s): run `signalbank rules check`", True)
        return False
    found = yaml_files(paths or [rules_dir / "tests"])
    cases, problems = read_cases(found, ruleset)
    for problem in problems:
        echo(str(problem), True)
    if not found:
        echo(f"no rule test files found in {', '.join(map(str, paths or [rules_dir / 'tests']))}", True)
    results = run_cases(ruleset, cases)
    for result in results:
        echo(describe(result), False)
    failed = sum(not r.passed for r in results)
    invalid = f", {len(problems)} problem(s) in test files" if problems else ""
    echo(f"{len(results) - failed} passed, {failed} failed{invalid}", False)
    return bool(found) and not failed and not problems
