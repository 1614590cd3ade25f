"""Rules cannot run code: imports, attribute walks, runaway work and huge allocations are refused
when the rules are loaded, each with a clear ``file:line:column`` error from ``signalbank rules check``."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from rules.cel.expressions import MAX_COMPREHENSION_DEPTH, MAX_COMPREHENSIONS, MAX_LIST_ELEMENTS

pytestmark = pytest.mark.faults

NUMBERS = "[" + ", ".join(str(i) for i in range(40)) + "]"
#: 40^4 = 2.6 million elements if it ran: refused before it runs, so the check stays fast.
NESTED = f"{NUMBERS}.map(a, {NUMBERS}.map(b, {NUMBERS}.map(c, {NUMBERS}.map(d, a * b * c * d)))).size() > 0"


def check(tmp_path: Path, when: str) -> tuple[str, float]:
    """``signalbank rules check`` on one churn rule with condition ``when``: its stderr, its time."""
    rule = tmp_path / "sandbox.yaml"
    rule.write_text(
        "rules:\n  - id: churn.sandbox\n    kind: churn\n    description: d\n"
        f"    when: '{when}'\n    weight: 0.2\n    reason: r\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "streams", "rules", "check", str(rule)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout  # invalid rules are bad input
    return result.stderr, time.monotonic() - started


@pytest.mark.parametrize(
    ("when", "column", "message"),
    [
        ("import os", 13, "syntax error: reserved identifier: import"),
        ('__import__("os") == 1', 12, "does not evaluate: Undefined variable or function: '__import__'"),
        ("profile.__class__ == 1", 20, "unknown field profile.__class__"),
        ("profile.products.__globals__ == 1", 12, "does not evaluate"),
        ('"x".__class__.__globals__ == 1', 12, "does not evaluate"),
    ],
    ids=["import", "builtin-call", "dunder-field", "dunder-walk", "dunder-on-literal"],
)
def test_imports_and_attribute_walks_are_refused(
    tmp_path: Path, when: str, column: int, message: str
) -> None:
    stderr, _ = check(tmp_path, when)
    assert f"sandbox.yaml:5:{column}: rules.0.when: {message}" in stderr, stderr


def test_runaway_nested_comprehensions_are_refused_before_running(tmp_path: Path) -> None:
    stderr, seconds = check(tmp_path, NESTED)
    assert (
        f"comprehension nested {MAX_COMPREHENSION_DEPTH + 1} deep (at most {MAX_COMPREHENSION_DEPTH})"
        in stderr
    )
    assert "sandbox.yaml:5:" in stderr
    assert seconds < 60, "the check ran the expression instead of refusing it"


def test_huge_list_literals_are_refused(tmp_path: Path) -> None:
    big = "[" + ", ".join("1" for _ in range(MAX_LIST_ELEMENTS + 1)) + "]"
    stderr, _ = check(tmp_path, f"{big}.map(x, {big}).size() > 0")
    assert f"list literal of {MAX_LIST_ELEMENTS + 1} elements (at most {MAX_LIST_ELEMENTS})" in stderr
    assert "sandbox.yaml:5:" in stderr


def test_too_many_comprehensions_are_refused(tmp_path: Path) -> None:
    stderr, _ = check(tmp_path, " && ".join(["[1].all(x, x > 0)"] * (MAX_COMPREHENSIONS + 1)))
    assert f"more than {MAX_COMPREHENSIONS} comprehensions in one condition" in stderr


def test_deep_nesting_is_a_syntax_error_not_a_crash(tmp_path: Path) -> None:
    stderr, _ = check(tmp_path, "(" * 600 + "1" + ")" * 600 + " == 1")
    assert "sandbox.yaml:5:" in stderr and "syntax error" in stderr, stderr


def test_conditions_within_the_limits_still_load(tmp_path: Path) -> None:
    rule = tmp_path / "fine.yaml"
    rule.write_text(
        "rules:\n  - id: churn.fine\n    kind: churn\n    description: d\n"
        f"    when: '{NUMBERS}.map(a, {NUMBERS}.filter(b, b > a)).size() > 0"
        ' && profile.products.exists(p, p == "X")\'\n'
        "    weight: 0.2\n    reason: r\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "streams", "rules", "check", str(rule)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
