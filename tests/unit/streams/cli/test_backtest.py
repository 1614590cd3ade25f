"""``signalbank churn fit`` and ``signalbank replay``: bad input exits 2, an unreachable Redis 1."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS
from tests.support.story import story
from tests.unit.streams.cli.run import nowhere, signalbank


def test_churn_fit_on_files_without_activity_is_bad_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = signalbank("churn", "fit", str(empty), "--out", str(tmp_path / "params.json"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["no customer activity in the given files", "1 problem(s) found"]


def test_replay_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = signalbank("replay", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_replay_refuses_a_redis_that_holds_data(redis_url: str, tmp_path: Path) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.set("someone:else", "1")
    client.close()
    events = tmp_path / "events.jsonl"
    events.write_text("")
    result = signalbank("replay", str(events), "--redis", redis_url)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{redis_url} is not empty: use an empty database or --flush",
        "1 problem(s) found",
    ]


def test_replay_on_an_unreachable_redis_fails(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("")
    result = signalbank("replay", str(events), "--redis", nowhere()["SIGNALBANK_REDIS_URL"])
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Redis: ")


def test_replay_with_shards_writes_what_the_sequential_replay_writes(tmp_path: Path) -> None:
    """``--shards 2`` reaches the sharded replay (two worker processes) and changes no output."""
    names = {
        TRANSACTIONS: "transactions.jsonl",
        INTERACTIONS: "interactions.jsonl",
        CUSTOMERS: "customers.jsonl",
    }
    for topic, name in names.items():
        rows = [json.dumps(body) for t, body in story() if t == topic]
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    files = [str(tmp_path / name) for name in names.values()]
    written: list[dict[str, str]] = []
    for shards in ("1", "2"):
        out = tmp_path / f"out{shards}"
        result = signalbank("replay", *files, "--out", str(out), "--no-checks", "--shards", shards)
        assert result.returncode == 0, result.stderr
        written.append({p.name: p.read_text() for p in sorted(out.glob("*.jsonl"))})
    assert written[0] == written[1]
    assert written[0]["signalbank.churn-alerts.v1.jsonl"]
