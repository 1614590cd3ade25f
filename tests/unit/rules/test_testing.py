"""Rule tests: the shipped YAML cases (one pytest test each), their coverage, and the test format."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rules.load.ruleset import Ruleset, load_ruleset
from rules.tools.testing import LoadedCase, check_case, load_cases, read_cases
from tests.conftest import RULES_DIR

SHIPPED = load_ruleset([RULES_DIR])
SHIPPED_CASES, SHIPPED_PROBLEMS = read_cases([RULES_DIR / "tests"], SHIPPED)


def test_shipped_test_files_are_valid() -> None:
    assert SHIPPED_PROBLEMS == []
    assert len(SHIPPED_CASES) >= 2 * SHIPPED.rule_count


@pytest.mark.parametrize("case", SHIPPED_CASES, ids=[c.test_id for c in SHIPPED_CASES])
def test_shipped_case(case: LoadedCase) -> None:
    result = check_case(SHIPPED, case)
    assert result.passed, "\n".join(result.failures)


def test_every_shipped_rule_and_offer_has_a_firing_and_a_non_firing_case() -> None:
    fires = {rule_id for c in SHIPPED_CASES for rule_id in c.case.expect.fires}
    not_fires = {rule_id for c in SHIPPED_CASES for rule_id in c.case.expect.not_fires}
    # a condition that is plainly `true` (the default tier) cannot have a case where it does not hold
    ids = [c.rule_id for c in SHIPPED.conditions]
    always = {c.rule_id for c in SHIPPED.conditions if c.source.strip() == "true"}
    kinds = {r.kind for r in (*SHIPPED.churn_rules, *SHIPPED.signal_rules, *SHIPPED.tiers)}
    assert kinds == {"churn", "tag", "care", "risk", "service", "tier"} and SHIPPED.offers
    assert [i for i in ids if i not in fires] == [], "rules with no case expecting them to fire"
    assert [i for i in ids if i not in not_fires | always] == [], (
        "rules with no case expecting them not to fire"
    )


# --- the format ------------------------------------------------------------------------------------

RULES = """\
rules:
  - id: churn.quiet
    kind: churn
    description: Quiet customer
    when: profile.days_since_activity > 30 && profile.days_since_activity < 9999
    weight: 0.3
    reason: "Silent for {profile.days_since_activity} days"
  - id: churn.spend_drop
    kind: churn
    description: Spend dropped
    when: profile.card_spend_30d * 4.0 < profile.card_spend_prev60d
    weight: 0.5
    reason: spend
offers:
  - id: offer.card
    product: CARD
    description: A card
    triggers: [login]
    eligible: profile.salary_count_90d >= 1
    value: 10
    channels: [mobile]
    reason: card
"""


@pytest.fixture(scope="module")
def small() -> Ruleset:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "r.yaml").write_text(RULES)
        return load_ruleset([Path(folder)])


def cases_of(ruleset: Ruleset, text: str) -> tuple[list[LoadedCase], list[str]]:
    cases, problems = load_cases([("t.yaml", textwrap.dedent(text))], ruleset)
    return cases, [str(p) for p in problems]


def test_coercion_lets_int_written_doubles_work_in_double_arithmetic(small: Ruleset) -> None:
    # ``card_spend_30d * 4.0`` fails in CEL on an int; YAML ``100`` must arrive as 100.0
    cases, problems = cases_of(
        small,
        """\
        cases:
          - name: drop
            profile: {card_spend_30d: 100, card_spend_prev60d: 1000}
            expect: {fires: [churn.spend_drop], level: elevated}
        """,
    )
    assert problems == []
    result = check_case(small, cases[0])
    assert result.passed, result.failures


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("profile: {days_since_activty: 40}", "t.yaml:4:15: unknown profile field 'days_since_activty'; "),
        ("profile: {login_count_30d: 2.5}", "t.yaml:4:15: profile.login_count_30d must be a whole number"),
        (
            "profile: {marketing_consent: 'yes'}",
            "t.yaml:4:15: profile.marketing_consent must be true or false",
        ),
        ("event: {kind: salary_credt}", "t.yaml:4:13: unknown event kind 'salary_credt'; did you mean"),
        ("event: {amont: 3}", "t.yaml:4:13: unknown event field 'amont'; did you mean 'amount'?"),
        ("expct: {}", "t.yaml:4:5: cases.0.expct: unknown key 'expct'"),
    ],
)
def test_bad_values_are_reported_at_their_line(small: Ruleset, case: str, message: str) -> None:
    _, problems = cases_of(
        small,
        f"""\
        cases:
          - name: a case
            expect: {{level: none}}
            {case}
        """,
    )
    assert any(p.startswith(message) for p in problems), problems


def test_unknown_rule_ids_and_duplicate_names_are_rejected(small: Ruleset) -> None:
    _, problems = cases_of(
        small,
        """\
        cases:
          - name: a
            expect:
              fires: [churn.quite]
              offer: offer.crad
          - name: a
            expect: {level: none}
        """,
    )
    assert problems == [
        "t.yaml:4:15: unknown (or disabled) rule id 'churn.quite'; did you mean 'churn.quiet'?",
        "t.yaml:5:14: unknown offer id 'offer.crad'; did you mean 'offer.card'?",
        "t.yaml:6:5: duplicate case name 'a'",
    ]


def test_an_expectation_that_does_not_hold_fails_with_the_values_read(small: Ruleset) -> None:
    cases, problems = cases_of(
        small,
        """\
        cases:
          - name: wrong
            profile: {days_since_activity: 10, salary_count_90d: 2, marketing_consent: true}
            event: {kind: login}
            expect:
              fires: [churn.quiet]
              not_fires: [offer.card]
              level: watch
              score: {min: 0.1}
              offer: none
              tags: [x]
        """,
    )
    assert problems == []
    failures = check_case(small, cases[0]).failures
    assert failures == (
        "churn.quiet did not fire (read profile.days_since_activity=10)",
        "offer.card fired (read profile.salary_count_90d=2)",
        "level is none (score 0.0000), expected watch",
        "score is 0.0000, expected 0.1..1.0",
        "offer is offer.card, expected none (suppressed: none)",
        "tags are [], expected ['x']",
    )


def test_a_case_must_check_something(small: Ruleset) -> None:
    _, problems = cases_of(small, "cases:\n  - name: a\n    expect: {}\n")
    assert problems and "expect checks nothing" in problems[0]


def signalbank(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def test_rules_test_command_passes_on_the_shipped_rules() -> None:
    result = signalbank("rules", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("PASS ") for line in lines) == len(SHIPPED_CASES)
    assert lines[-1] == f"{len(SHIPPED_CASES)} passed, 0 failed"


def test_rules_test_command_reports_failures_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(RULES)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "quiet.yaml").write_text(
        textwrap.dedent(
            """\
            cases:
              - name: quiet for 40 days
                profile: {days_since_activity: 40}
                expect: {fires: [churn.quiet], level: watch}
              - name: claims the wrong level
                profile: {days_since_activity: 40}
                expect: {level: high}
            """
        )
    )
    result = signalbank("rules", "test", "--rules", str(tmp_path))
    assert result.returncode == 1
    assert f"PASS {tmp_path}/tests/quiet.yaml::quiet for 40 days" in result.stdout
    assert f"FAIL {tmp_path}/tests/quiet.yaml::claims the wrong level" in result.stdout
    assert "    level is watch (score 0.3000), expected high" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 passed, 1 failed"


def test_rules_test_command_fails_on_an_invalid_test_file(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(RULES)
    (tmp_path / "cases").mkdir()
    bad = tmp_path / "cases" / "bad.yaml"
    bad.write_text("cases:\n  - name: x\n    profile: {nope: 1}\n    expect: {level: none}\n")
    result = signalbank("rules", "test", "--rules", str(tmp_path), str(bad))
    assert result.returncode == 1
    assert f"{bad}:3:15: unknown profile field 'nope'" in result.stderr
