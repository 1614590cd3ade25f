"""A rule whose condition held, and the reason text it renders: shared by the engine and the ruleset.

The ruleset builds one ``Fired`` per rule when it loads, so evaluating an event only selects them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from rules.load.model import ChurnRule, SignalKindRule
from schemas.outputs import EvidenceValue

if TYPE_CHECKING:
    from rules.load.conditions import Condition

_PLACEHOLDER = re.compile(r"\{(profile|event)\.([A-Za-z_][A-Za-z0-9_]*)\}")

Context = dict[str, dict[str, Any]]


class Fired(NamedTuple):
    """A rule and its compiled condition; message and evidence are rendered only when an output needs them."""

    rule: ChurnRule | SignalKindRule
    condition: Condition

    def message(self, context: Context) -> str:
        template = self.rule.reason if isinstance(self.rule, ChurnRule) else self.rule.message
        return render(template, context)

    def evidence(self, context: Context) -> dict[str, EvidenceValue]:
        return evidence(self.condition, context)


def evidence(condition: Condition, context: Context) -> dict[str, EvidenceValue]:
    """The values a condition read ("profile.x" / "event.x"): what an output shows as its grounds."""
    return {f"{root}.{name}": context[root].get(name) for root, name in condition.reads}


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def render(template: str, context: Context) -> str:
    """Fill ``{profile.x}`` / ``{event.x}`` placeholders of a reason text."""
    return _PLACEHOLDER.sub(lambda m: _format(context[m.group(1)].get(m.group(2), "?")), template)
