"""Problems in rule files, as file:line:column: message."""

from __future__ import annotations

from rules.load.problems import RuleProblem, RulesetError


def test_a_problem_reads_as_file_line_column_message() -> None:
    assert str(RuleProblem("rules/churn.yaml", 12, 7, "unknown key 'wieght'")) == (
        "rules/churn.yaml:12:7: unknown key 'wieght'"
    )


def test_an_error_lists_every_problem_in_file_and_line_order() -> None:
    found = [
        RuleProblem("b.yaml", 1, 1, "third"),
        RuleProblem("a.yaml", 10, 1, "second"),
        RuleProblem("a.yaml", 2, 5, "first"),
    ]
    error = RulesetError(found)
    assert [p.message for p in error.problems] == ["first", "second", "third"]
    assert str(error) == "a.yaml:2:5: first\na.yaml:10:1: second\nb.yaml:1:1: third"
