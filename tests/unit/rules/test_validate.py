"""Validation of rule files: every problem at once, each at its file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.load.problems import RulesetError
from rules.load.ruleset import load_ruleset
from rules.load.validate import validate
from tests.support.rule_files import GOOD_RULE, write


def problems(tmp_path: Path, *files: tuple[str, str]) -> list[str]:
    for name, text in files:
        write(tmp_path, text, name)
    with pytest.raises(RulesetError) as info:
        load_ruleset([tmp_path])
    return [str(p) for p in info.value.problems]


def test_unknown_field_is_reported_with_position_and_suggestion(tmp_path: Path) -> None:
    found = problems(
        tmp_path, ("r.yaml", GOOD_RULE.replace("days_since_activity > 30.0", "days_since_activty > 30.0"))
    )
    assert len(found) == 1
    # line 5, column of "days_since_activty" inside `when: profile.days_since_activty`
    assert found[0].startswith(f"{tmp_path / 'r.yaml'}:5:19: ")
    assert "did you mean profile.days_since_activity?" in found[0]


def test_syntax_error_points_inside_the_expression(tmp_path: Path) -> None:
    found = problems(tmp_path, ("r.yaml", GOOD_RULE.replace("> 30.0", "> > 30.0")))
    assert found[0].startswith(f"{tmp_path / 'r.yaml'}:5:")
    assert "syntax error" in found[0]


def test_comparing_number_with_string_is_rejected(tmp_path: Path) -> None:
    found = problems(tmp_path, ("r.yaml", GOOD_RULE.replace("30.0", '"thirty"')))
    assert "does not evaluate" in found[0]


def test_type_mistake_behind_a_false_left_side_is_still_found(tmp_path: Path) -> None:
    # neutral values make the left side false, so CEL would never look at the bad multiplication
    condition = "profile.login_count_30d > 5 && profile.card_spend_30d * 4 < 1.0"
    found = problems(tmp_path, ("r.yaml", GOOD_RULE.replace("profile.days_since_activity > 30.0", condition)))
    assert "float * int" in found[0], found


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("weight: 0.3", "weight: 0.3\n    wieght: 1"), "unknown key 'wieght'"),
        (("weight: 0.3", "weight: 0.3\n    cooldown: 2 weeks"), "bad duration"),
        (("weight: 0.3", "weight: 7"), "less than or equal to 1"),
        (("id: churn.quiet", "id: Quiet Rule"), "String should match pattern"),
    ],
)
def test_schema_errors_name_the_line(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    found = problems(tmp_path, ("r.yaml", GOOD_RULE.replace(*edit)))
    assert any(message in p for p in found), found
    assert all(p.split(":")[1].isdigit() and int(p.split(":")[1]) >= 2 for p in found)


def test_duplicate_ids_across_files_are_errors(tmp_path: Path) -> None:
    found = problems(tmp_path, ("a.yaml", GOOD_RULE), ("b.yaml", GOOD_RULE))
    assert any("duplicate id 'churn.quiet'" in p and "a.yaml:2" in p for p in found)


def test_empty_ruleset_and_yaml_syntax_errors(tmp_path: Path) -> None:
    assert "file is empty" in problems(tmp_path, ("a.yaml", "# nothing\n"))[0]
    found = problems(tmp_path, ("a.yaml", "rules: [\n  - id: x\n"))
    assert "YAML syntax" in found[0]


def test_comprehension_variables_cannot_take_the_engine_s_reserved_name(tmp_path: Path) -> None:
    condition = "profile.products.exists(sb_fields, sb_fields == profile.segment)"
    found = problems(tmp_path, ("r.yaml", GOOD_RULE.replace("profile.days_since_activity > 30.0", condition)))
    assert "reserved name" in found[0]


TIERS = """\
rules:
  - id: tier.gold
    kind: tier
    tier: gold
    rank: 2
    description: Gold
    when: profile.balance_avg_90d >= 50000.0
    stay: profile.balance_avg_90d >= 40000.0
    message: gold
  - id: tier.base
    kind: tier
    tier: base
    rank: 1
    description: Everyone
    when: "true"
    stay: "true"
    message: base
"""

OFFER = """\
offers:
  - id: offer.card
    product: CARD
    description: A card
    eligible: profile.salary_count_90d >= 1
    value: 10
    channels: [mobile]
    reason: card
"""


def test_tiers_need_distinct_ranks_and_names_and_a_default(tmp_path: Path) -> None:
    found = problems(
        tmp_path, ("r.yaml", TIERS.replace("rank: 2", "rank: 1").replace("tier: gold", "tier: base"))
    )
    assert any("rank 1 is also used by" in p for p in found), found
    assert any("tier 'base' is also used by" in p for p in found), found
    no_default = TIERS.replace('when: "true"', "when: profile.balance_avg_90d >= 0.0")
    found = problems(tmp_path, ("r.yaml", no_default))
    assert found == [
        f"{tmp_path / 'r.yaml'}:10:5: tier.base: the lowest tier is the default, so its `when` must be true"
    ]


def test_valid_rules_come_grouped_and_tiers_highest_first() -> None:
    gold, base = TIERS.split("  - id: tier.base\n")
    rules = validate(
        [
            ("a.yaml", GOOD_RULE),
            ("b.yaml", OFFER),
            ("c.yaml", "rules:\n  - id: tier.base\n" + base),
            ("d.yaml", gold),
        ]
    )
    assert [r.id for r in rules.churn_rules] == ["churn.quiet"] and rules.signal_rules == ()
    assert [o.id for o in rules.offers] == ["offer.card"] and len(rules.files) == 4
    # the rank decides, not the file order
    assert [t.id for t in rules.tiers] == ["tier.gold", "tier.base"]


def test_strategies_may_name_only_enabled_offers(tmp_path: Path) -> None:
    strategies = "strategies:\n  champion:\n    name: champion\n    offers: [offer.card, offer.crad]\n"
    found = problems(tmp_path, ("a.yaml", OFFER), ("s.yaml", strategies))
    assert found == [
        f"{tmp_path / 's.yaml'}:1:1: strategies: champion names unknown or disabled offer 'offer.crad'"
    ]
    disabled = OFFER.replace("reason: card", "reason: card\n    enabled: false")
    found = problems(tmp_path, ("a.yaml", disabled + GOOD_RULE))
    assert any("names unknown or disabled offer 'offer.card'" in p for p in found), found


def test_a_policy_may_be_defined_once(tmp_path: Path) -> None:
    policy = "tier_policy:\n  hold: 14d\n"
    found = problems(tmp_path, ("a.yaml", GOOD_RULE + policy), ("b.yaml", policy))
    assert found == [f"{tmp_path / 'b.yaml'}:1:1: tier_policy is already defined in {tmp_path / 'a.yaml'}"]


def test_per_must_name_a_catalogued_profile_field(tmp_path: Path) -> None:
    service = """\
    rules:
      - id: service.complaint_late
        kind: service
        description: Late complaint
        when: profile.complaints_open > 0
        per: profile.oldest_open_complaint_rf
        message: late
        action: call
    """
    found = problems(tmp_path, ("r.yaml", service))
    assert len(found) == 1 and found[0].startswith(f"{tmp_path / 'r.yaml'}:6:5: rules.0.per: unknown field")
    assert "did you mean profile.oldest_open_complaint_ref?" in found[0]


def test_a_propensity_must_be_a_number(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        ("r.yaml", OFFER.replace("value: 10", "propensity: profile.salary_count_90d > 1\n    value: 10")),
    )
    assert len(found) == 1 and "offers.0.propensity: must be a number 0..1, but gives bool" in found[0]
    assert validate([("r.yaml", OFFER.replace("value: 10", 'propensity: "1"\n    value: 10'))]).offers


def test_disabled_entries_are_not_checked_but_something_must_be_enabled(tmp_path: Path) -> None:
    broken = GOOD_RULE.replace("> 30.0", "> > 30.0").replace("weight: 0.3", "weight: 0.3\n    enabled: false")
    found = problems(tmp_path, ("r.yaml", broken))
    assert found == [f"{tmp_path / 'r.yaml'}:1:1: the ruleset has no enabled rules or offers"]


def test_an_unknown_or_missing_kind_lists_the_kinds(tmp_path: Path) -> None:
    found = problems(tmp_path, ("r.yaml", GOOD_RULE.replace("kind: churn", "kind: chrun")))
    assert any("unknown kind 'chrun': one of churn, tag, care, risk, service, tier" in p for p in found), (
        found
    )
    found = problems(tmp_path, ("r.yaml", GOOD_RULE.replace("    kind: churn\n", "")))
    assert any("missing 'kind'" in p for p in found), found


def test_no_sources_is_a_problem() -> None:
    with pytest.raises(RulesetError, match="no rule files found"):
        validate([])
