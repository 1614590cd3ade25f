"""Compile validated rules into one CEL program, each result's place named after the rule it answers.

The engine runs every condition and score as one CEL call returning a list. Which part of that list
answers which rule is decided here, once, while the list is laid out: each rule, offer and tier is
paired with its own compiled conditions (``Fired``, ``OfferConditions``, ``TierConditions``) and each
group gets its ``Slots`` entry as it is placed. The engine reads groups and slots by name, so it
never restates the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cel

from rules.cel.expressions import flatten, references
from rules.cel.field_list import FieldList
from rules.load.fired import Fired
from rules.load.model import Offer, TierRule
from rules.load.validate import ValidRules


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled condition: which rule it belongs to and which fields it reads."""

    rule_id: str  # the rule's id, or ``<id>#<part>`` for an offer's or tier's other parts
    source: str
    reads: tuple[tuple[str, str], ...]  # (root, field) in first-read order
    program: Any  # compiled on the ruleset's field list, used alone only when the combined call fails


@dataclass(frozen=True, slots=True)
class OfferConditions:
    """An offer with its compiled stages."""

    offer: Offer
    eligible: Condition
    suitable: Condition
    propensity: Condition  # a number, not a condition


@dataclass(frozen=True, slots=True)
class TierConditions:
    """A tier with its compiled entry and stay conditions."""

    tier: TierRule
    when: Condition
    stay: Condition


@dataclass(frozen=True, slots=True)
class Slots:
    """Where each group's results sit in the combined program's list.

    Conditions come first, so every slot but ``propensity`` also indexes the list of their results.
    """

    conditions: slice  # every condition (true or false); the rest are scores
    churn: slice
    signals: slice
    eligible: slice  # per offer
    tier_when: slice  # per tier, highest rank first
    tier_stay: slice
    suitable: slice  # per offer
    propensity: slice  # per offer, a number


@dataclass(frozen=True)
class CompiledConditions:
    """Every compiled condition, by group, and the one program that evaluates them all."""

    churn: tuple[Fired, ...]  # per churn rule, in ruleset order
    signals: tuple[Fired, ...]  # per tag, care, risk and service rule
    offers: tuple[OfferConditions, ...]
    tiers: tuple[TierConditions, ...]  # highest rank first
    conditions: tuple[Condition, ...]  # in the order of the program's results
    scores: tuple[Condition, ...]  # the offers' propensities, after the conditions
    slots: Slots
    field_list: FieldList  # every field some condition reads, as the one CEL list variable
    combined: Any  # one CEL program over the field list returning every condition's result, then every score

    def __post_init__(self) -> None:
        """Refuse conditions paired with the wrong rule, or slots not holding their group: the engine
        and every output trust both (built once per ruleset, so checking costs no event anything)."""
        named = [
            *((f.condition, f.rule.id) for f in (*self.churn, *self.signals)),
            *((o.eligible, o.offer.id) for o in self.offers),
            *((o.suitable, f"{o.offer.id}#suitable") for o in self.offers),
            *((o.propensity, f"{o.offer.id}#propensity") for o in self.offers),
            *((t.when, t.tier.id) for t in self.tiers),
            *((t.stay, f"{t.tier.id}#stay") for t in self.tiers),
        ]
        for condition, rule_id in named:
            if condition.rule_id != rule_id:
                raise ValueError(f"condition {condition.rule_id} is attached to {rule_id}")
        results = (*self.conditions, *self.scores)
        placed = {
            "churn": [f.condition for f in self.churn],
            "signals": [f.condition for f in self.signals],
            "eligible": [o.eligible for o in self.offers],
            "tier_when": [t.when for t in self.tiers],
            "tier_stay": [t.stay for t in self.tiers],
            "suitable": [o.suitable for o in self.offers],
            "propensity": [o.propensity for o in self.offers],
        }
        for name, group in placed.items():
            at = results[getattr(self.slots, name)]
            if len(at) != len(group) or any(a is not b for a, b in zip(at, group, strict=True)):
                raise ValueError(f"slot {name} does not hold its group's conditions")
        if self.slots.conditions != slice(0, len(self.conditions)):
            raise ValueError("slot conditions does not hold every condition")


def _reads(source: str) -> tuple[tuple[str, str], ...]:
    return tuple(dict.fromkeys((root, name) for root, name, _ in references(source)))


def compile_conditions(rules: ValidRules) -> CompiledConditions:
    """Compile every condition and score of ``rules`` on one field list, and the combined program."""
    every = [
        *(r.when for r in (*rules.churn_rules, *rules.signal_rules)),
        *(source for o in rules.offers for source in (o.eligible, o.suitable, o.propensity)),
        *(source for t in rules.tiers for source in (t.when, t.stay)),
    ]
    field_list = FieldList(read for source in every for read in _reads(source))

    def condition(rule_id: str, source: str) -> Condition:
        program = cel.compile(flatten(source, field_list.reference))
        return Condition(rule_id, source, _reads(source), program)

    churn = tuple(Fired(r, condition(r.id, r.when)) for r in rules.churn_rules)
    signals = tuple(Fired(r, condition(r.id, r.when)) for r in rules.signal_rules)
    offers = tuple(
        OfferConditions(
            o,
            condition(o.id, o.eligible),
            condition(f"{o.id}#suitable", o.suitable),
            condition(f"{o.id}#propensity", o.propensity),
        )
        for o in rules.offers
    )
    tiers = tuple(
        TierConditions(t, condition(t.id, t.when), condition(f"{t.id}#stay", t.stay)) for t in rules.tiers
    )

    laid_out: list[Condition] = []

    def place(group: Sequence[Condition]) -> slice:
        start = len(laid_out)
        laid_out.extend(group)
        return slice(start, len(laid_out))

    churn_at = place([f.condition for f in churn])
    signals_at = place([f.condition for f in signals])
    eligible_at = place([o.eligible for o in offers])
    tiers_at = place([c for t in tiers for c in (t.when, t.stay)])  # per tier its `when`, then its `stay`
    suitable_at = place([o.suitable for o in offers])
    conditions_at = slice(0, len(laid_out))
    propensity_at = place([o.propensity for o in offers])
    slots = Slots(
        conditions=conditions_at,
        churn=churn_at,
        signals=signals_at,
        eligible=eligible_at,
        tier_when=slice(tiers_at.start, tiers_at.stop, 2),
        tier_stay=slice(tiers_at.start + 1, tiers_at.stop, 2),
        suitable=suitable_at,
        propensity=propensity_at,
    )
    entries = ",\n".join(f"({flatten(c.source, field_list.reference)})" for c in laid_out)
    return CompiledConditions(
        churn=churn,
        signals=signals,
        offers=offers,
        tiers=tiers,
        conditions=tuple(laid_out[conditions_at]),
        scores=tuple(laid_out[propensity_at]),
        slots=slots,
        field_list=field_list,
        combined=cel.compile(f"[{entries}]"),
    )
