"""Replay on a real Redis: batches, silence checks and their period come from the settings it is
given; the summary names every rule and output topic."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from agents.silence import check_id
from rules.load.ruleset import Ruleset
from schemas.catalog import CHURN_ALERTS, DEAD_LETTERS, OUTPUT_TOPICS
from streams.backtest.replay import ReplayOptions, ReplayResult, churn_firings, replay, summary_lines
from streams.settings import Settings

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _salary(customer: str, n: int, at: datetime) -> dict[str, Any]:
    return {
        "event_id": f"{customer}-{n}",
        "customer_id": customer,
        "occurred_at": at.isoformat(),
        "account_id": f"{customer}-A",
        "kind": "salary_credit",
        "amount": "2500.00",
        "currency": "EUR",
        "channel": "mobile",
    }


def story_file(path: Path) -> Path:
    """SILENT is paid twice, 15 days apart, then nothing; CLOCK acts 41.5 days after the last pay."""
    rows = [
        _salary("SILENT", 0, T0),
        _salary("SILENT", 1, T0 + timedelta(days=15)),
        _salary("CLOCK", 0, T0 + timedelta(days=56.5)),
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _run(
    tmp_path: Path, redis_url: str, ruleset: Ruleset, settings: Settings, checks: bool = True
) -> tuple[ReplayResult, list[int]]:
    progress: list[int] = []
    shutil.rmtree(tmp_path / "out", ignore_errors=True)  # the outputs of this run only
    options = ReplayOptions(
        files=(story_file(tmp_path / "transactions.jsonl"),),
        redis_url=redis_url,
        settings=settings,
        out_dir=tmp_path / "out",
        checks=checks,
    )
    result = asyncio.run(replay(options, ruleset, lambda _read, events: progress.append(events)))
    return result, progress


def _alerts(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "out" / f"{CHURN_ALERTS}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_batches_are_the_settings_batch_size(tmp_path: Path, redis_url: str, ruleset: Ruleset) -> None:
    result, progress = _run(tmp_path, redis_url, ruleset, Settings(batch_size=2), checks=False)
    assert progress == [2, 3] and result.events == 3 and result.checks == 0


def test_silence_checks_run_by_the_watermark_with_the_settings_check_period(
    tmp_path: Path, redis_url: str, ruleset: Ruleset
) -> None:
    """With two-day periods the check 41.5 days after the last pay is the one of day 40, with
    one-day periods that of day 41: the check's id (and its outputs' ids) follow the setting."""
    last_ms = int((T0 + timedelta(days=15)).timestamp() * 1000)
    watermark_ms = int((T0 + timedelta(days=56.5)).timestamp() * 1000)
    for period_days in (2, 1):
        settings = Settings(batch_size=1, check_after_s=period_days * 86_400.0, check_batch=1)
        result, _ = _run(tmp_path, redis_url, ruleset, settings)
        [alert] = _alerts(tmp_path)
        assert alert["customer_id"] == "SILENT"
        assert [r["rule_id"] for r in alert["reasons"]] == ["churn.salary_stopped"]
        assert alert["trigger_event_id"] == check_id(last_ms, watermark_ms, timedelta(days=period_days))
        assert result.checks >= 1
        assert [f.customer_id for f in churn_firings(result, ruleset)] == ["SILENT"]
        _flush(redis_url)


def test_the_settings_grace_holds_checks_back_after_processing(
    tmp_path: Path, redis_url: str, ruleset: Ruleset
) -> None:
    """All in one batch, the watermark is CLOCK's event: SILENT is due at once without a grace, and
    a grace after it with one (a backlog is not judged silent half-way through)."""
    result, _ = _run(tmp_path, redis_url, ruleset, Settings(batch_size=500, check_grace_s=0.0))
    assert [a["customer_id"] for a in _alerts(tmp_path)] == ["SILENT"] and result.checks >= 1
    _flush(redis_url)
    result, _ = _run(tmp_path, redis_url, ruleset, Settings(batch_size=500, check_grace_s=60.0))
    assert result.checks == 0 and _alerts(tmp_path) == []


def test_the_summary_names_every_rule_and_output_topic(
    tmp_path: Path, redis_url: str, ruleset: Ruleset
) -> None:
    result, _ = _run(tmp_path, redis_url, ruleset, Settings(batch_size=1))
    lines = summary_lines(result, ruleset)
    assert lines[0].startswith(f"replayed 3 events from {T0.date()} to ")
    assert f"ruleset {ruleset.version}, {result.checks} silence checks" in lines[0]
    table = "\n".join(lines)
    for condition in ruleset.conditions:
        assert condition.rule_id in table
    for topic in OUTPUT_TOPICS:
        assert (topic in table) == (topic != DEAD_LETTERS)  # dead letters only when there are some


def _flush(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
