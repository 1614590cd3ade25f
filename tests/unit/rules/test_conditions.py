"""The compiled ruleset names each group of conditions and where its results sit in the one CEL call."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rules.cel.expressions import FIELDS
from rules.load.fired import Fired
from rules.load.ruleset import Ruleset
from rules.tools.case_context import complete_event, complete_profile


def test_every_rule_offer_and_tier_has_its_own_conditions(ruleset: Ruleset) -> None:
    compiled = ruleset.compiled
    assert [(f.rule, f.condition.rule_id, f.condition.source) for f in compiled.churn] == [
        (r, r.id, r.when) for r in ruleset.churn_rules
    ]
    assert [(f.rule, f.condition.rule_id, f.condition.source) for f in compiled.signals] == [
        (r, r.id, r.when) for r in ruleset.signal_rules
    ]
    assert [
        (o.offer, o.eligible.rule_id, o.eligible.source, o.suitable.rule_id, o.suitable.source)
        for o in compiled.offers
    ] == [(o, o.id, o.eligible, f"{o.id}#suitable", o.suitable) for o in ruleset.offers]
    assert [(o.propensity.rule_id, o.propensity.source) for o in compiled.offers] == [
        (f"{o.id}#propensity", o.propensity) for o in ruleset.offers
    ]
    assert [
        (t.tier, t.when.rule_id, t.when.source, t.stay.rule_id, t.stay.source) for t in compiled.tiers
    ] == [(t, t.id, t.when, f"{t.id}#stay", t.stay) for t in ruleset.tiers]


def test_each_slot_holds_its_group_s_conditions(ruleset: Ruleset) -> None:
    compiled, slots = ruleset.compiled, ruleset.compiled.slots
    results = (*compiled.conditions, *compiled.scores)
    assert results[slots.churn] == tuple(f.condition for f in compiled.churn)
    assert results[slots.signals] == tuple(f.condition for f in compiled.signals)
    assert results[slots.eligible] == tuple(o.eligible for o in compiled.offers)
    assert results[slots.suitable] == tuple(o.suitable for o in compiled.offers)
    assert results[slots.propensity] == tuple(o.propensity for o in compiled.offers) == compiled.scores
    assert results[slots.tier_when] == tuple(t.when for t in compiled.tiers)
    assert results[slots.tier_stay] == tuple(t.stay for t in compiled.tiers)
    assert results[slots.conditions] == compiled.conditions == ruleset.conditions


def test_conditions_keep_their_documented_order(ruleset: Ruleset) -> None:
    # Evaluation.results, the backtest summary and `rules test` read Ruleset.conditions in this order
    assert [c.rule_id for c in ruleset.conditions] == [
        *(r.id for r in (*ruleset.churn_rules, *ruleset.signal_rules)),
        *(o.id for o in ruleset.offers),
        *(i for t in ruleset.tiers for i in (t.id, f"{t.id}#stay")),
        *(f"{o.id}#suitable" for o in ruleset.offers),
    ]


def test_the_program_answers_every_condition_then_every_score(ruleset: Ruleset) -> None:
    values = ruleset.field_values(complete_profile({}), complete_event({}))
    answers = ruleset.compiled.combined.execute({FIELDS: values})
    slots = ruleset.compiled.slots
    assert len(answers) == len(ruleset.conditions) + len(ruleset.scores)
    assert all(isinstance(a, bool) for a in answers[slots.conditions])
    assert all(isinstance(a, int | float) and not isinstance(a, bool) for a in answers[slots.propensity])


def test_a_condition_attached_to_another_rule_is_refused(ruleset: Ruleset) -> None:
    compiled = ruleset.compiled
    first, second, *rest = compiled.churn
    swapped = (Fired(first.rule, second.condition), Fired(second.rule, first.condition), *rest)
    with pytest.raises(ValueError, match="is attached to"):
        replace(compiled, churn=swapped)
    offer = compiled.offers[0]
    with pytest.raises(ValueError, match="is attached to"):
        replace(compiled, offers=(replace(offer, eligible=offer.suitable), *compiled.offers[1:]))
    tier = compiled.tiers[0]
    with pytest.raises(ValueError, match="is attached to"):
        replace(compiled, tiers=(replace(tier, when=tier.stay, stay=tier.when), *compiled.tiers[1:]))


def test_a_slot_that_does_not_hold_its_group_is_refused(ruleset: Ruleset) -> None:
    compiled, slots = ruleset.compiled, ruleset.compiled.slots
    for wrong in (
        replace(slots, churn=slots.signals),
        replace(slots, eligible=slots.suitable),
        replace(slots, tier_when=slots.tier_stay),
        replace(slots, churn=slice(slots.churn.start, slots.churn.stop - 1)),
    ):
        with pytest.raises(ValueError, match="does not hold"):
            replace(compiled, slots=wrong)
    reordered = (compiled.conditions[1], compiled.conditions[0], *compiled.conditions[2:])
    with pytest.raises(ValueError, match="slot churn"):
        replace(compiled, conditions=reordered)


def test_a_ruleset_refuses_conditions_of_other_rules(ruleset: Ruleset) -> None:
    with pytest.raises(ValueError, match="not of this ruleset's rules"):
        replace(ruleset, churn_rules=ruleset.churn_rules[1:])
    with pytest.raises(ValueError, match="not of this ruleset's rules"):
        replace(ruleset, tiers=tuple(reversed(ruleset.tiers)))
