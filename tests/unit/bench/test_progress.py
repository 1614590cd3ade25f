"""A baseline's progress report: written once, when the expected count is reached (real files)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.progress import Progress


def test_batches_count_whole_and_the_report_is_written_once_when_the_count_is_reached(
    tmp_path: Path,
) -> None:
    result = tmp_path / "result.json"
    progress = Progress(1_000, result)
    progress.tick(400)
    progress.tick(400)
    assert not result.exists()
    progress.tick(400)
    written = json.loads(result.read_text())
    assert (written["count"], written["first_count"]) == (1_200, 400)
    assert written["first"] <= written["last"]
    result.unlink()
    progress.tick(400)
    assert not result.exists()


def test_single_events_report_at_exactly_the_expected_count(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    progress = Progress(3, result)
    for _ in range(3):
        progress.tick()
    assert json.loads(result.read_text())["count"] == 3
