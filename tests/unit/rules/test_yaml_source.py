"""YAML read safely, remembering where each key and value sits."""

from __future__ import annotations

import pytest
import yaml

from rules.load.problems import RuleProblem
from rules.load.yaml_source import Position, parse_yaml, read_document

TEXT = """\
rules:
  - id: churn.quiet
    when: >-
      profile.days_since_activity > 30
    reason: "Silent"
"""


def test_keys_and_values_keep_their_line_column_and_style() -> None:
    doc = parse_yaml(TEXT)
    assert doc.data == {
        "rules": [{"id": "churn.quiet", "when": "profile.days_since_activity > 30", "reason": "Silent"}]
    }
    assert doc.keys[("rules",)] == Position(1, 1, None)
    assert doc.keys[("rules", 0)].line == 2
    assert doc.keys[("rules", 0, "when")] == Position(3, 5, None)
    assert doc.values[("rules", 0, "when")] == Position(3, 11, ">")
    assert doc.values[("rules", 0, "reason")] == Position(5, 13, '"')


def test_position_falls_back_to_the_deepest_known_key() -> None:
    doc = parse_yaml(TEXT)
    assert doc.position(("rules", 0, "weight")) == doc.keys[("rules", 0)]
    assert doc.position(("offers", 3)) == Position(1, 1, None)  # the document itself
    assert parse_yaml("").position(("rules",)) == Position(1, 1)


def test_the_safe_loader_refuses_python_objects() -> None:
    with pytest.raises(yaml.MarkedYAMLError):
        parse_yaml("x: !!python/object/apply:os.system ['true']\n")


def test_syntax_errors_and_empty_files_become_problems() -> None:
    problems: list[RuleProblem] = []
    assert read_document("a.yaml", "rules: [\n  - id: x\n", problems) is None
    assert read_document("b.yaml", "# only a comment\n", problems) is None
    assert read_document("c.yaml", TEXT, problems) is not None
    assert problems[0].file == "a.yaml" and problems[0].message.startswith("YAML syntax: ")
    assert (problems[0].line, problems[0].column) == (2, 3)  # the "-" where a value was expected
    assert problems[1:] == [RuleProblem("b.yaml", 1, 1, "file is empty")]
