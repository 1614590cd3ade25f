"""The ruleset as a whole: the shipped rules load, and the version is a hash of their content."""

from __future__ import annotations

from pathlib import Path

from rules.load.ruleset import Ruleset, load_ruleset, load_sources
from tests.support.rule_files import GOOD_RULE, write


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


def test_sources_load_as_files_do_and_are_kept(tmp_path: Path) -> None:
    # the control topic carries (name, text) pairs: the same text must give the same ruleset
    path = write(tmp_path, GOOD_RULE)
    from_disk = load_ruleset([tmp_path])
    published = load_sources([(str(path), path.read_text())])
    assert published.version == from_disk.version
    assert published.files == (str(path),) and published.sources == ((str(path), path.read_text()),)
    assert [r.id for r in published.churn_rules] == ["churn.quiet"] and published.rule_count == 1


def test_version_ignores_formatting_but_not_order_of_meaning(tmp_path: Path) -> None:
    first = load_sources([("a.yaml", GOOD_RULE)]).version
    spaced = GOOD_RULE.replace("weight: 0.3", "weight:   0.30  # the usual")
    assert load_sources([("b.yaml", spaced)]).version == first
