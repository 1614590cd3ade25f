"""The command line as users call it: exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streams.settings import DEFAULT_RULES_DIR


def signalbank(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args], capture_output=True, text=True, timeout=120
    )


def test_rules_check_accepts_the_shipped_rules() -> None:
    result = signalbank("rules", "check", str(DEFAULT_RULES_DIR))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ruleset ")


def test_rules_check_prints_file_line_column_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n  - id: churn.x\n    kind: churn\n    description: d\n    when: profile.nope > 1.0\n"
        "    weight: 0.2\n    reason: r\n"
    )
    result = signalbank("rules", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:5:19: rules.0.when: unknown field profile.nope" in result.stderr


def test_schemas_export_check_passes_on_a_clean_tree() -> None:
    result = signalbank("schemas", "export", "--check")
    assert result.returncode == 0, result.stderr


def test_simulate_writes_jsonl_files_and_truth(tmp_path: Path) -> None:
    result = signalbank("simulate", "--customers", "5", "--days", "20", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "transactions.jsonl").stat().st_size > 0
    assert (tmp_path / "truth.json").exists()
