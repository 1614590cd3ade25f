"""Generated parts of docs/rules.md: rule keys from the pydantic models, fields from the catalogue.

The analysts' guide must never disagree with what the checker accepts, so the tables are rendered
from the same models and field catalogue, between markers, by ``signalbank rules docs``; a test
fails when the committed document differs from what would be generated.
"""

from __future__ import annotations

import re
import types
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from rules.load.model import (
    Cap,
    CareRule,
    Challenger,
    ChurnPolicy,
    ChurnRule,
    ContactPolicy,
    Fatigue,
    LevelThresholds,
    Offer,
    RetentionAction,
    RiskRule,
    ServiceRule,
    Strategies,
    Strategy,
    TagRule,
    TierPolicy,
    TierRule,
    Weights,
)
from rules.tools.testing import Expect, RuleCase, ScoreRange
from schemas.profile.fields import EVENT_FIELDS, PROFILE_FIELDS, FieldSpec
from schemas.profile.shape import DAILY_DAYS, WINDOWS

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
REGENERATE = "signalbank rules docs"

#: Meaning of keys whose model field has no ``description`` (the model's description wins).
KEY_MEANINGS: dict[str, str] = {
    "id": "Unique name, lowercase and dotted: `churn.salary_stopped`, `offer.card_gold`.",
    "kind": "Which kind of rule this is.",
    "description": "What the rule means, for people reading alerts and dashboards.",
    "when": "CEL condition; the rule fires while it is true.",
    "eligible": "CEL condition; the customer may get the offer while it is true.",
    "weight": "How much this reason adds to the churn score (0 < weight <= 1).",
    "cooldown": "Shortest time before the same output is sent again to the same customer.",
    "reason": "Text shown with the alert or offer; `{profile.x}` / `{event.x}` are filled in.",
    "message": "Text of the signal; `{profile.x}` / `{event.x}` are filled in.",
    "enabled": "`false` keeps the rule in the file but switches it off.",
    "tag": "The tag name, lowercase, e.g. `salary_payer`.",
    "action": "What a person should do about it.",
    "severity": "How urgent it is for the receiving team.",
    "product": "Product code of the offer, uppercase, e.g. `TERM_DEPOSIT_12M`.",
    "category": "`sales` offers are blocked at high churn levels; `retention` offers are not.",
    "value": "Worth of the offer to the bank; with `priority` it ranks competing offers.",
    "priority": "Multiplies `value` when offers are ranked.",
    "channels": "Where the offer may be made.",
    "valid_for": "How long the customer may accept the offer.",
    "watch": "Lowest score of the `watch` level (below it: no alert).",
    "elevated": "Lowest score of the `elevated` level.",
    "high": "Lowest score of the `high` level.",
    "critical": "Lowest score of the `critical` level.",
    "levels": "Score at which each level starts.",
    "actions": "Suggested retention action per level, optionally per top reason (first match wins).",
    "level": "The churn level this action is for.",
    "top_reason": "Only when this churn rule is the top reason (largest weight) of the alert.",
    "require_marketing_consent": "Sales and retention offers only for customers who consented.",
    "block_when_complaint_open": "No offers while the customer has an open complaint.",
    "block_sales_at_levels": "No `sales` offers at these churn levels.",
    "max_offers_per_event": "At most this many offers per event, best first.",
    "expect": "What the rules must conclude; only the keys given are checked.",
}

SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("Churn rule (`kind: churn`, under `rules:`)", ChurnRule),
    ("Tag rule (`kind: tag`, under `rules:`)", TagRule),
    ("Care rule (`kind: care`, under `rules:`)", CareRule),
    ("Risk rule (`kind: risk`, under `rules:`)", RiskRule),
    ("Service rule (`kind: service`, under `rules:`)", ServiceRule),
    ("Tier rule (`kind: tier`, under `rules:`)", TierRule),
    ("Offer (under `offers:`)", Offer),
    ("`churn_policy:` (once in the whole ruleset)", ChurnPolicy),
    ("`churn_policy.levels:`", LevelThresholds),
    ("`churn_policy.actions:` (a list)", RetentionAction),
    ("`contact_policy:` (once in the whole ruleset)", ContactPolicy),
    ("`contact_policy.caps:` (a list)", Cap),
    ("`contact_policy.fatigue:`", Fatigue),
    ("`strategies:` (once in the whole ruleset; see docs/offers.md)", Strategies),
    ("`strategies.champion:`", Strategy),
    ("`strategies.challengers:` (a list)", Challenger),
    ("`weights:` (of a strategy)", Weights),
    ("`tier_policy:` (once in the whole ruleset)", TierPolicy),
)
TEST_SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("A case (under `cases:`)", RuleCase),
    ("`expect:`", Expect),
    ("`expect.score:`", ScoreRange),
)


def _type(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in get_args(annotation))
    if origin is list:
        return f"list of {_type(get_args(annotation)[0])}"
    if origin is dict:
        key, value = get_args(annotation)
        return "`field: value` pairs" if value is Any else f"map of {_type(key)} to {_type(value)}"
    if origin in (Union, types.UnionType):
        return " or ".join(_type(a) for a in get_args(annotation) if a is not type(None))
    if hasattr(annotation, "__metadata__"):  # Annotated
        return _type(get_args(annotation)[0])
    if isinstance(annotation, type) and hasattr(annotation, "__members__"):  # an enum
        return " \\| ".join(f"`{m.value}`" for m in annotation.__members__.values())
    names = {str: "text", float: "number", int: "whole number", bool: "`true` \\| `false`"}
    if annotation is timedelta:
        return "duration"
    if annotation in names:
        return names[annotation]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "see below"
    return "any value" if annotation is Any else str(annotation)


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    value = field.default_factory() if field.default_factory else field.default
    if value is PydanticUndefined or value is None:
        return "—"
    if value == "":
        return '`""`'
    if isinstance(value, timedelta):
        hours = int(value.total_seconds()) // 3600
        return f"`{hours // 24}d`" if hours % 24 == 0 else f"`{hours}h`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return "`[" + ", ".join(str(getattr(v, "value", v)) for v in value) + "]`"
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{getattr(value, 'value', value)}`"


def meaning(name: str, field: Any) -> str:
    """The model's description of a key, else our text; empty when neither documents it."""
    return str(field.description or KEY_MEANINGS.get(name, ""))


def _keys_table(model: type[BaseModel]) -> list[str]:
    rows = ["| key | value | default | meaning |", "|---|---|---|---|"]
    fields = model.model_fields
    first = [name for name in ("id", "kind") if name in fields]
    for name in [*first, *(n for n in fields if n not in first)]:
        field = fields[name]
        rows.append(f"| `{name}` | {_type(field.annotation)} | {_default(field)} | {meaning(name, field)} |")
    return rows


def _sections(sections: tuple[tuple[str, type[BaseModel]], ...]) -> str:
    lines: list[str] = []
    for title, model in sections:
        lines += [f"#### {title}", "", *_keys_table(model), ""]
    return "\n".join(lines).rstrip("\n")


def _windowed(specs: tuple[FieldSpec, ...]) -> list[tuple[str, str, str]]:
    """(name, type, meaning) rows; the 1/7/30/90-day variants of a field share one row."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    suffix = re.compile(r"_(\d+)d$")
    for spec in specs:
        match = suffix.search(spec.name)
        tail = f", last {match.group(1)} day(s)" if match else ""
        if match and int(match.group(1)) in WINDOWS and spec.description.endswith(tail):
            base = spec.name[: match.start()]
            if base not in seen:
                seen.add(base)
                windows = ", ".join(str(d) for d in WINDOWS[:-1]) + f" or {WINDOWS[-1]}"
                longer = [str(d) for d in WINDOWS if d > DAILY_DAYS]
                weeks = f"; {', '.join(longer)}: whole weeks, up to 6 days more" if longer else ""
                text = f"{spec.description[: -len(tail)]}, over the last N days (N = {windows}{weeks})"
                rows.append((f"{base}_<N>d", spec.type, text))
            continue
        rows.append((spec.name, spec.type, spec.description))
    return rows


_TYPES = {"int": "int", "double": "double", "string": "string", "bool": "bool", "list": "list of strings"}


def _fields_table(root: str, specs: tuple[FieldSpec, ...]) -> list[str]:
    rows = ["| field | type | meaning |", "|---|---|---|"]
    for name, kind, text in _windowed(specs):
        rows.append(f"| `{root}.{name}` | {_TYPES[kind]} | {text} |")
    return rows


def render_blocks() -> dict[str, str]:
    """Name -> generated Markdown of every block of docs/rules.md."""
    return {
        "rule-keys": _sections(SECTIONS),
        "profile-fields": "\n".join(_fields_table("profile", PROFILE_FIELDS)),
        "event-fields": "\n".join(_fields_table("event", EVENT_FIELDS)),
        "test-keys": _sections(TEST_SECTIONS),
    }


def _markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- generated:{name} begin: do not edit, run `{REGENERATE}` -->",
        f"<!-- generated:{name} end -->",
    )


def update_document(text: str) -> str:
    """``text`` with every generated block replaced; ValueError naming a block whose markers are missing."""
    for name, content in render_blocks().items():
        begin, end = _markers(name)
        start, stop = text.find(begin), text.find(end)
        if start < 0 or stop < start:
            raise ValueError(f"markers of the generated block {name!r} are missing: add\n{begin}\n{end}")
        text = text[: start + len(begin)] + "\n" + content + "\n" + text[stop:]
    return text
