"""docs/rules.md: generated tables up to date, every key documented, every example valid."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from rules.cel.expressions import check_expression
from rules.load.model import RuleFile
from rules.load.ruleset import load_sources, read_sources
from rules.tools.catalogue import DOC_PATH, REGENERATE, SECTIONS, TEST_SECTIONS, meaning, update_document
from rules.tools.testing import load_cases
from schemas.profile.fields import EVENT_FIELDS, PROFILE_FIELDS
from tests.conftest import RULES_DIR

DOC = DOC_PATH.read_text(encoding="utf-8")
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.S)


def test_generated_tables_are_up_to_date() -> None:
    assert update_document(DOC) == DOC, f"docs/rules.md is stale: run `{REGENERATE}`"


@pytest.mark.parametrize("model", [m for _, m in (*SECTIONS, *TEST_SECTIONS)], ids=lambda m: m.__name__)
def test_every_key_has_a_meaning(model: type[BaseModel]) -> None:
    missing = [name for name, field in model.model_fields.items() if not meaning(name, field)]
    assert missing == [], (
        f"describe these keys in the model or in rules.tools.catalogue.KEY_MEANINGS: {missing}"
    )


def test_every_catalogued_field_is_in_the_guide() -> None:
    for root, specs in (("profile", PROFILE_FIELDS), ("event", EVENT_FIELDS)):
        for spec in specs:
            windowed = re.sub(r"_\d+d$", "_<N>d", spec.name)
            assert f"`{root}.{spec.name}`" in DOC or f"`{root}.{windowed}`" in DOC, spec.name


def test_a_stale_block_is_detected_and_markers_are_required() -> None:
    stale = DOC.replace("| `profile.last_nps` | int |", "| `profile.last_nps` | double |")
    assert stale != DOC and update_document(stale) == DOC
    without = DOC.replace("<!-- generated:event-fields end -->", "")
    with pytest.raises(ValueError, match="event-fields"):
        update_document(without)


def test_condition_examples_compile() -> None:
    examples = DOC[DOC.index("**Examples**") : DOC.index("## The fields you can use")]
    conditions = re.findall(r"^\| `([^`]+)` \|", examples, re.M)
    assert len(conditions) >= 5
    for condition in conditions:
        assert check_expression(condition)[1] == [], condition


def test_rule_examples_are_valid_rule_files() -> None:
    rule_blocks = [b for b in YAML_BLOCKS if re.match(r"(rules|offers|contact_policy|churn_policy):", b)]
    assert len(rule_blocks) >= 4
    for block in rule_blocks:
        data = yaml.safe_load(block)
        RuleFile.model_validate(data)
        if data.get("rules") or data.get("offers"):
            load_sources([("example.yaml", block)])


def test_test_examples_are_valid_against_the_rules_and_the_first_example() -> None:
    first_rule = next(b for b in YAML_BLOCKS if "churn.card_unused" in b and b.startswith("rules:"))
    sources = [*read_sources([RULES_DIR]), ("first.yaml", first_rule)]
    ruleset = load_sources(sources)
    case_blocks = [b for b in YAML_BLOCKS if b.startswith("cases:")]
    assert len(case_blocks) >= 2
    for block in case_blocks:
        cases, problems = load_cases([("example.yaml", block)], ruleset)
        assert problems == [] and cases


def test_rules_docs_command_rewrites_and_checks(tmp_path: Path) -> None:
    copy = tmp_path / "rules.md"
    copy.write_text(DOC.replace("| `event.amount` | double |", "| `event.amount` | int |"), encoding="utf-8")

    def signalbank(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "streams", "rules", "docs", "--file", str(copy), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    stale = signalbank("--check")
    assert stale.returncode == 1 and f"run `{REGENERATE}`" in stale.stderr
    assert signalbank().returncode == 0
    assert copy.read_text(encoding="utf-8") == DOC
    assert signalbank("--check").returncode == 0
