"""A rules folder holding one valid file, for the publication, follower and watcher tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.rule_texts import seen_folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return seen_folder(tmp_path)
