"""``signalbank rules``: exit codes and messages, and one report of an invalid rule file everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.settings import DEFAULT_RULES_DIR
from tests.unit.streams.cli.run import BAD_RULE, nowhere, signalbank


def test_rules_check_accepts_the_shipped_rules() -> None:
    result = signalbank("rules", "check", str(DEFAULT_RULES_DIR))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ruleset ")


def test_rules_check_prints_file_line_column_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_RULE)
    result = signalbank("rules", "check", str(bad))
    assert result.returncode == 2  # bad input (was 1, like a failure, before exit codes were unified)
    assert f"{bad}:5:19: rules.0.when: unknown field profile.nope" in result.stderr


@pytest.fixture
def invalid_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "bad.yaml").write_text(BAD_RULE)
    return folder


@pytest.mark.parametrize(
    ("args", "consequence"),
    [
        (["rules", "check", "{folder}"], ""),
        (["rules", "test", "--rules", "{folder}"], ""),
        (["rules", "explain", "C1", "--rules", "{folder}"], ""),
        (["replay", "{events}", "--rules", "{folder}"], ""),
        (["dev", "--rules", "{folder}", "--seconds", "1"], ""),
        (["rules", "publish", "{folder}"], "; nothing published"),
    ],
    ids=["check", "test", "explain", "replay", "dev", "publish"],
)
def test_every_command_reports_an_invalid_rule_file_the_same_way(
    invalid_folder: Path, tmp_path: Path, args: list[str], consequence: str
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("")
    argv = [a.format(folder=invalid_folder, events=events) for a in args]
    result = signalbank(*argv, env=nowhere())
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"{invalid_folder / 'bad.yaml'}:5:19: rules.0.when: unknown field profile.nope",
        f"1 problem(s) found{consequence}",
    ]


def test_rules_test_exits_1_when_a_case_fails(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(BAD_RULE.replace("profile.nope", "profile.days_since_activity"))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.yaml").write_text(
        "cases:\n  - name: wrong\n    profile: {days_since_activity: 40}\n"
        "    expect: {not_fires: [churn.x]}\n"
    )
    result = signalbank("rules", "test", "--rules", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL " in result.stdout
    assert "Error: the rule tests did not all pass" in result.stderr


def test_rules_explain_bad_time_is_a_usage_error(tmp_path: Path) -> None:
    result = signalbank("rules", "explain", "C1", "--at", "yesterday", env=nowhere())
    assert result.returncode == 2
    assert "Invalid value for '--at': bad time 'yesterday': write ISO 8601" in result.stderr
    assert "Traceback" not in result.stderr


def test_rules_explain_without_redis_is_a_failure() -> None:
    result = signalbank("rules", "explain", "C1", "--at", "2026-03-01T09:00:00Z", env=nowhere())
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Redis: ")
    assert "Traceback" not in result.stderr


def test_rules_docs_on_a_document_without_markers_is_bad_input(tmp_path: Path) -> None:
    document = tmp_path / "rules.md"
    document.write_text("# Rules\n\nno generated tables here\n")
    result = signalbank("rules", "docs", "--check", "--file", str(document))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{document}: markers of the generated block ")
    assert result.stderr.splitlines()[-1] == "1 problem(s) found"
