"""``signalbank dev``: invalid rules are reported before any server starts, exit 2."""

from __future__ import annotations

import time
from pathlib import Path

from tests.unit.streams.cli.run import BAD_RULE, signalbank


def test_dev_refuses_an_invalid_rules_folder_before_starting_anything(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD_RULE)
    started = time.monotonic()
    result = signalbank("dev", "--rules", str(tmp_path), "--seconds", "5")
    assert result.returncode == 2
    assert f"{tmp_path / 'bad.yaml'}:5:19: rules.0.when: unknown field profile.nope" in result.stderr
    assert "embedded" not in result.stdout  # no broker or Redis was started
    assert time.monotonic() - started < 30


def test_dev_rejects_a_bad_rate() -> None:
    result = signalbank("dev", "--rate", "fast")
    assert result.returncode == 2
    assert "Invalid value for '--rate'" in result.stderr
