"""``signalbank simulate``: files written; a bad value exits 2, an unreachable broker 1."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.streams.cli.run import nowhere, signalbank


def test_simulate_writes_jsonl_files_and_truth(tmp_path: Path) -> None:
    result = signalbank("simulate", "--customers", "5", "--days", "20", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "transactions.jsonl").stat().st_size > 0
    assert (tmp_path / "truth.json").exists()


def test_simulate_rejects_a_bad_value(tmp_path: Path) -> None:
    result = signalbank("simulate", "--customers", "many", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "Invalid value for '--customers'" in result.stderr


def test_simulate_to_an_unreachable_broker_fails() -> None:
    result = signalbank("simulate", "--customers", "2", "--days", "2", env=nowhere())
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("Error: Kafka: ")
    assert "Traceback" not in result.stderr


def test_simulate_card_only_writes_card_payments_only(tmp_path: Path) -> None:
    result = signalbank(
        "simulate",
        "--personas",
        "card_only",
        "--customers",
        "20",
        "--days",
        "60",
        "--invalid-ratio",
        "0",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    kinds = {json.loads(line)["kind"] for line in (tmp_path / "transactions.jsonl").read_text().splitlines()}
    assert kinds == {"card_payment"}
    assert not (tmp_path / "interactions.jsonl").exists() or not (tmp_path / "interactions.jsonl").read_text()
    personas = {facts["persona"] for facts in json.loads((tmp_path / "truth.json").read_text()).values()}
    assert personas <= {"occasional", "card_daily", "pauser"}
