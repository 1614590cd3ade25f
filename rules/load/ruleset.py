"""A loaded ruleset: validated rules, their compiled conditions and a content version, swapped whole.

``load_ruleset`` reads files (``rules.load.files``), validates them (``rules.load.validate``) and
compiles their conditions (``rules.load.conditions``); a ruleset with any problem is rejected whole
so a worker never runs half of an edit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from rules.load.conditions import CompiledConditions, Condition, compile_conditions
from rules.load.files import read_sources, yaml_files
from rules.load.model import (
    ChurnPolicy,
    ChurnRule,
    ContactPolicy,
    Offer,
    RuleFile,
    SignalKindRule,
    Strategies,
    TierPolicy,
    TierRule,
)
from rules.load.validate import validate

#: The loader's front door: callers import these from here, wherever each is defined.
__all__ = ["Condition", "Ruleset", "load_ruleset", "load_sources", "read_sources", "yaml_files"]


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
    strategies: Strategies
    compiled: CompiledConditions  # per rule, offer and tier its conditions; the combined program
    files: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]  # (file name, text): what was published or read

    def __post_init__(self) -> None:
        """The compiled groups must be of these very rules, in this order (the engine pairs them)."""
        compiled = self.compiled
        pairs = (
            (self.churn_rules, tuple(f.rule for f in compiled.churn)),
            (self.signal_rules, tuple(f.rule for f in compiled.signals)),
            (self.offers, tuple(o.offer for o in compiled.offers)),
            (self.tiers, tuple(t.tier for t in compiled.tiers)),
        )
        for rules, paired in pairs:
            if len(rules) != len(paired) or any(a is not b for a, b in zip(rules, paired, strict=True)):
                raise ValueError("compiled conditions are not of this ruleset's rules")

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """Every condition, in the order of ``Evaluation.results``: churn rules, signal rules,
        offers' ``eligible``, per tier ``when`` and ``stay``, offers' ``suitable``."""
        return self.compiled.conditions

    @property
    def scores(self) -> tuple[Condition, ...]:
        """Per offer its ``propensity`` (a number, not a condition)."""
        return self.compiled.scores

    @property
    def rule_count(self) -> int:
        return len(self.compiled.conditions)

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """(root, field) of each element of the field list."""
        return self.compiled.field_list.fields

    def field_values(self, profile: dict[str, Any], event: dict[str, Any]) -> list[Any]:
        """The field list every compiled condition reads (the CEL variable ``FIELDS``)."""
        return self.compiled.field_list.values(profile, event)

    @cached_property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.tier for t in self.tiers)

    @cached_property
    def tiers_by_name(self) -> dict[str, TierRule]:
        """Tier rules by tier name (looked up for every event's tier decision)."""
        return {t.tier: t for t in self.tiers}


def _version(files: Sequence[RuleFile]) -> str:
    """A hash of the parsed content: formatting and comments do not change it, any value does."""
    canonical = json.dumps([f.model_dump(mode="json") for f in files], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def load_ruleset(paths: Iterable[Path]) -> Ruleset:
    """Load, validate and compile the rule files under ``paths``; raise RulesetError listing every problem."""
    return load_sources(read_sources(paths))


def load_sources(sources: Sequence[tuple[str, str]]) -> Ruleset:
    """Validate and compile rule files given as (name, text): from disk or from the control topic."""
    rules = validate(sources)
    return Ruleset(
        version=_version(rules.files),
        churn_rules=rules.churn_rules,
        signal_rules=rules.signal_rules,
        offers=rules.offers,
        churn_policy=rules.churn_policy,
        contact_policy=rules.contact_policy,
        tier_policy=rules.tier_policy,
        tiers=rules.tiers,
        strategies=rules.strategies,
        compiled=compile_conditions(rules),
        files=tuple(name for name, _ in sources),
        sources=tuple(sources),
    )
