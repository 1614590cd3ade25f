"""Rule files: validation with file:line:column, and the engine's scores, levels and contact policy."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from rules.cel.expressions import default_context
from rules.evaluate.engine import evaluate
from rules.load.problems import RulesetError
from rules.load.ruleset import Ruleset, load_ruleset
from rules.tools.case_context import complete_event, complete_profile
from schemas.outputs import ChurnLevel

GOOD_RULE = """\
rules:
  - id: churn.quiet
    kind: churn
    description: Quiet customer
    when: profile.days_since_activity > 30.0
    weight: 0.3
    reason: "Silent for {profile.days_since_activity} days"
"""


def write(tmp_path: Path, text: str, name: str = "r.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, *files: tuple[str, str]) -> list[str]:
    for name, text in files:
        write(tmp_path, text, name)
    with pytest.raises(RulesetError) as info:
        load_ruleset([tmp_path])
    return [str(p) for p in info.value.problems]


def test_shipped_ruleset_is_valid_and_versioned(ruleset: Ruleset) -> None:
    assert len(ruleset.churn_rules) >= 4
    assert len(ruleset.offers) >= 2
    assert len(ruleset.version) == 12


def test_version_is_a_content_hash(tmp_path: Path) -> None:
    write(tmp_path, GOOD_RULE)
    first = load_ruleset([tmp_path]).version
    assert load_ruleset([tmp_path]).version == first
    write(tmp_path, GOOD_RULE.replace("0.3", "0.35"))
    assert load_ruleset([tmp_path]).version != first


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


def context(**profile: Any) -> dict[str, dict[str, Any]]:
    """A customer with no history (as rule tests use) with ``profile`` fields set."""
    return {"profile": complete_profile(profile), "event": complete_event({})}


def test_default_context_gives_every_catalogued_field(ruleset: Ruleset) -> None:
    ctx = default_context()
    assert set(ctx["profile"]) == set(context()["profile"])
    assert set(ctx["event"]) == set(context()["event"])


def test_score_is_noisy_or_and_level_follows_thresholds(ruleset: Ruleset) -> None:
    ctx = context(
        salary_count_90d=3,
        days_since_salary=40,
        complaints_open=1,
        oldest_open_complaint_hours=200,
        last_nps=-1,
    )
    result = evaluate(ruleset, ctx["profile"], ctx["event"])
    # largest weight first: the unanswered complaint (0.6), then the salary (0.45)
    assert [f.rule.id for f in result.fired] == ["churn.complaint_open_too_long", "churn.salary_stopped"]
    assert result.score == pytest.approx(1 - 0.4 * 0.55)
    assert result.level is ChurnLevel.HIGH
    evidence = result.fired[1].evidence(result.context)
    assert evidence == {"profile.salary_count_90d": 3, "profile.days_since_salary": 40}


def test_nothing_fires_for_a_quiet_neutral_profile(ruleset: Ruleset) -> None:
    ctx = context(last_nps=-1)
    result = evaluate(ruleset, ctx["profile"], ctx["event"])
    assert result.fired == () and result.level is None and result.score == 0.0


def test_a_rule_failing_at_run_time_does_not_silence_the_others(tmp_path: Path) -> None:
    # passes the load-time dry runs (0, 1e6 and -1 logins) but divides by zero at exactly 2 logins
    faulty = GOOD_RULE.replace("churn.quiet", "churn.faulty").replace(
        "profile.days_since_activity > 30.0", "100 / (profile.login_count_30d - 2) > 1"
    )
    write(tmp_path, GOOD_RULE, "a.yaml")
    write(tmp_path, faulty, "b.yaml")
    ruleset = load_ruleset([tmp_path])
    ctx = context(days_since_activity=45, login_count_30d=2)
    result = evaluate(ruleset, ctx["profile"], ctx["event"])
    assert result.errors == ("churn.faulty",)
    assert [f.rule.id for f in result.fired] == ["churn.quiet"]
    healthy = context(days_since_activity=45, login_count_30d=1)
    result = evaluate(ruleset, healthy["profile"], healthy["event"])
    assert result.errors == () and {f.rule.id for f in result.fired} == {"churn.quiet"}


def test_comprehension_variables_cannot_take_the_engine_s_reserved_name(tmp_path: Path) -> None:
    condition = "profile.products.exists(sb_fields, sb_fields == profile.segment)"
    found = problems(tmp_path, ("r.yaml", GOOD_RULE.replace("profile.days_since_activity > 30.0", condition)))
    assert "reserved name" in found[0]


def test_comprehension_bodies_read_fields_through_the_field_list(tmp_path: Path) -> None:
    condition = "profile.products.exists(p, p.startsWith(profile.segment))"
    write(tmp_path, GOOD_RULE.replace("profile.days_since_activity > 30.0", condition))
    ruleset = load_ruleset([tmp_path])
    hit = context(products=["retail_savings"], segment="retail")
    miss = context(products=["retail_savings"], segment="private")
    assert [f.rule.id for f in evaluate(ruleset, hit["profile"], hit["event"]).fired] == ["churn.quiet"]
    assert evaluate(ruleset, miss["profile"], miss["event"]).fired == ()


def test_contact_policy_blocks_sales_when_churn_is_high(ruleset: Ruleset) -> None:
    ctx = context(
        salary_count_90d=3,
        salary_amount_90d=9000.0,
        days_since_salary=40,
        marketing_consent=True,
        outflow_other_bank_30d=5000.0,
        balance_last=10.0,
        balance_avg_90d=5000.0,
        inflow_90d=9000.0,
        last_nps=-1,
    )
    ctx["event"]["kind"] = "login"
    result = evaluate(ruleset, ctx["profile"], ctx["event"])
    assert result.level in (ChurnLevel.HIGH, ChurnLevel.CRITICAL)
    assert ("offer.credit_card_gold", "churn_risk") in result.suppressed
    assert [o.id for o in result.offers] == ["offer.retention_fee_waiver"]


def test_contact_policy_needs_consent(ruleset: Ruleset) -> None:
    ctx = context(
        salary_count_90d=3,
        salary_amount_90d=9000.0,
        days_since_salary=5,
        marketing_consent=False,
        last_nps=-1,
    )
    ctx["event"]["kind"] = "salary_credit"
    result = evaluate(ruleset, ctx["profile"], ctx["event"])
    assert result.offers == ()
    assert ("offer.credit_card_gold", "no_consent") in result.suppressed
