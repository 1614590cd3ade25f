"""A rule that held: its reason text and the values its condition read."""

from __future__ import annotations

from rules.load.fired import Context, evidence, render
from rules.load.ruleset import Ruleset

CONTEXT: Context = {
    "profile": {
        "days_since_activity": 45.0,
        "balance_last": 12.345,
        "products": ["CARD", "LOAN"],
        "big": 1234.5,
    },
    "event": {"kind": "login"},
}


def test_placeholders_are_filled_and_numbers_read_like_a_person_writes_them() -> None:
    text = "{profile.days_since_activity} days, {profile.balance_last} left, {profile.big} big"
    assert render(text, CONTEXT) == "45 days, 12.35 left, 1234 big"
    assert (
        render("holds {profile.products} after a {event.kind}", CONTEXT) == "holds CARD, LOAN after a login"
    )


def test_an_unknown_placeholder_shows_a_question_mark_and_other_braces_stay() -> None:
    assert (
        render("{profile.nothing} and {literal} and {event.kind", CONTEXT)
        == "? and {literal} and {event.kind"
    )


def test_fired_renders_the_rule_s_own_text_and_evidence(ruleset: Ruleset) -> None:
    churn, signal = ruleset.compiled.churn[0], ruleset.compiled.signals[0]
    context: Context = {"profile": {}, "event": {}}
    assert churn.rule is ruleset.churn_rules[0] and signal.rule is ruleset.signal_rules[0]
    assert churn.message(context) == render(ruleset.churn_rules[0].reason, context)
    assert signal.message(context) == render(ruleset.signal_rules[0].message, context)
    reads = churn.condition.reads
    assert list(churn.evidence(context)) == [f"{root}.{name}" for root, name in reads]
    assert set(churn.evidence(context).values()) == {None}
    full = {"profile": {name: 7 for root, name in reads if root == "profile"}, "event": {}}
    assert evidence(churn.condition, full) == {
        f"{root}.{name}": 7 if root == "profile" else None for root, name in reads
    }
