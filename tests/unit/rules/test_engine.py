"""The engine: scores, levels, signals, offers and tiers, each read from its own group's results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rules.evaluate.arbitration import NOT_ELIGIBLE, SUPPRESSED
from rules.evaluate.engine import churn_level, evaluate, level_rank, suggested_action
from rules.load.ruleset import Ruleset, load_ruleset, load_sources
from rules.tools.case_context import complete_event, complete_profile
from schemas.outputs import ChurnLevel
from tests.support.rule_files import GOOD_RULE, write


def context(**profile: Any) -> dict[str, dict[str, Any]]:
    """A customer with no history (as rule tests use) with ``profile`` fields set."""
    return {"profile": complete_profile(profile), "event": complete_event({})}


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


EVERY_GROUP = """\
rules:
  - id: churn.holds
    kind: churn
    description: Holds
    when: profile.login_count_30d == 3
    weight: 0.3
    reason: holds
  - id: churn.fails
    kind: churn
    description: Fails
    when: profile.login_count_30d == 4
    weight: 0.6
    reason: fails
  - id: tag.fails
    kind: tag
    tag: never
    description: Fails
    when: profile.login_count_30d == 4
    message: fails
  - id: tag.holds
    kind: tag
    tag: always
    description: Holds
    when: profile.login_count_30d == 3
    message: holds
  - id: tier.top
    kind: tier
    tier: top
    rank: 2
    description: Top
    when: profile.login_count_30d == 4
    stay: profile.login_count_30d == 3
    message: top
  - id: tier.base
    kind: tier
    tier: base
    rank: 1
    description: Base
    when: "true"
    stay: profile.login_count_30d == 4
    message: base
offers:
  - id: offer.unsuitable
    product: CARD
    description: Eligible but not suitable
    eligible: profile.login_count_30d == 3
    suitable: profile.login_count_30d == 4
    propensity: "0.25"
    value: 10
    channels: [mobile]
    reason: card
  - id: offer.ineligible
    product: LOAN
    description: Suitable but not eligible
    eligible: profile.login_count_30d == 4
    suitable: profile.login_count_30d == 3
    propensity: "0.75"
    value: 10
    channels: [mobile]
    reason: loan
"""


def test_each_group_reads_its_own_results() -> None:
    # every condition holds exactly when its neighbours in the program's list do not, so a group
    # read from another group's place (or a rule paired with another's condition) changes an outcome
    ruleset = load_sources([("every.yaml", EVERY_GROUP)])
    ctx = context(login_count_30d=3, marketing_consent=True)
    result = evaluate(ruleset, ctx["profile"], ctx["event"])
    assert [f.rule.id for f in result.fired] == ["churn.holds"] and result.score == pytest.approx(0.3)
    assert [f.rule.id for f in result.signals] == ["tag.holds"] and result.tags == ("always",)
    assert [t.id for t in result.tiers_entered] == ["tier.base"] and result.tiers_kept == {"top"}
    assert result.decisions == (SUPPRESSED, NOT_ELIGIBLE) and result.candidates == ()
    assert result.suppressed == (("offer.unsuitable", "not_suitable"),)
    assert result.propensities == (0.25, 0.75)
    held = dict(zip((c.rule_id for c in ruleset.conditions), result.results, strict=True))
    assert held == {
        "churn.holds": True,
        "churn.fails": False,
        "tag.fails": False,
        "tag.holds": True,
        "offer.unsuitable": True,
        "offer.ineligible": False,
        "tier.top": False,
        "tier.top#stay": True,
        "tier.base": True,
        "tier.base#stay": False,
        "offer.unsuitable#suitable": False,
        "offer.ineligible#suitable": True,
    }


def test_a_failing_score_falls_back_to_each_on_its_own_with_the_same_groups() -> None:
    # an int division by zero fails the combined call; every other result must land where it did
    faulty = EVERY_GROUP.replace(
        'propensity: "0.75"', "propensity: double(100 / (profile.login_count_30d - 3))"
    )
    ctx = context(login_count_30d=3, marketing_consent=True)
    result = evaluate(load_sources([("every.yaml", faulty)]), ctx["profile"], ctx["event"])
    clean = evaluate(load_sources([("every.yaml", EVERY_GROUP)]), ctx["profile"], ctx["event"])
    assert result.errors == ("offer.ineligible#propensity",) and result.propensities == (0.25, 0.0)
    assert result.results == clean.results and result.decisions == clean.decisions
    assert [f.rule.id for f in result.fired] == [f.rule.id for f in clean.fired] == ["churn.holds"]
    assert [f.rule.id for f in result.signals] == ["tag.holds"] and result.tiers_kept == {"top"}


def test_levels_rank_and_actions_follow_the_policy(ruleset: Ruleset) -> None:
    levels = ruleset.churn_policy.levels
    assert churn_level(ruleset, levels.watch - 0.001) is None
    assert churn_level(ruleset, levels.watch) is ChurnLevel.WATCH
    assert churn_level(ruleset, levels.critical) is ChurnLevel.CRITICAL
    assert [level_rank(level) for level in (None, *ChurnLevel)] == sorted(
        level_rank(level) for level in (None, *ChurnLevel)
    )
    assert level_rank(None) == 0 and level_rank(ChurnLevel.CRITICAL) == 4
    assert suggested_action(ruleset, None, "churn.salary_stopped") == ""
