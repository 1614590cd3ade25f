"""Rule files found and read from disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.load.files import read_sources, yaml_files
from rules.load.problems import RulesetError


def test_folders_expand_to_their_yaml_files_in_name_order(tmp_path: Path) -> None:
    for name in ("b.yml", "a.yaml", "notes.txt", "tests/case.yaml"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("rules: []\n")
    single = tmp_path / "tests" / "case.yaml"
    assert yaml_files([tmp_path]) == [tmp_path / "a.yaml", tmp_path / "b.yml"]
    assert yaml_files([single, tmp_path]) == [single, tmp_path / "a.yaml", tmp_path / "b.yml"]


def test_sources_are_names_and_texts(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("rules: []\n")
    assert read_sources([tmp_path]) == [(str(tmp_path / "a.yaml"), "rules: []\n")]


def test_no_files_or_unreadable_ones_are_problems(tmp_path: Path) -> None:
    with pytest.raises(RulesetError, match="<rules>:1:1: no rule files found"):
        read_sources([tmp_path])
    (tmp_path / "a.yaml").write_bytes(b"\xff\xfe rules")
    with pytest.raises(RulesetError, match=r"a\.yaml:1:1: cannot read: .*codec can't decode"):
        read_sources([tmp_path])
    with pytest.raises(RulesetError, match=r"missing\.yaml:1:1: cannot read"):
        read_sources([tmp_path / "missing.yaml"])
