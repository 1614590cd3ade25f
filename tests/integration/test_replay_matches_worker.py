"""Replay and a real worker, both with a non-default check period, grace and retention, give the
same outputs on the same events, silence checks included; a replay with the default value of any
one of these settings gives other outputs (the settings reach replay, and the test can fail).

The story ends, in event time, a minute or two before the test: replay's clock (the watermark) then
stands where the worker's wall clock stands, and customers quiet for 41.5 days are checked by both
in the same two-day check period, so the checks get the same ids. Customers act at most 1.5 days
apart until they go quiet, and nobody acts between then and the last minutes, so replay checks no
one half-way through (the worker reads everything within seconds, well inside the grace).

The grace shows in replay through a history arriving late, just before the last event: replay
checks it only if the grace after processing it has passed by then. Retention shows through one
extra rule reading ``profile.active_days``: an event arriving 108 days older than its customer's
newest counts as an active day within a 120-day retention, not within the default 90.

On a broker of its own: the end-to-end test counts every output on the session broker.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from rules.load.ruleset import Ruleset, load_ruleset
from schemas.catalog import CHURN_ALERTS, OUTPUT_TOPICS, SIGNALS, TRANSACTIONS
from streams.backtest.replay import ReplayOptions, replay
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.kafka.admin import create_topics
from streams.runtime import load_churn_model
from streams.settings import DEFAULT_RULES_DIR, Settings
from tests.support.churn_models import use_rules_only
from tests.support.kafka_io import collect, produce

LATE_RULE = "parity.active_days_with_a_late_event"

#: What the worker and the first replay run with; each negative control sets one back to its default.
SETTINGS = {
    "SIGNALBANK_CHECK_AFTER_S": str(2 * 86_400),  # default: one day
    "SIGNALBANK_RETENTION_DAYS": "120",  # default: 90 (less than the longest window is not valid)
    "SIGNALBANK_CHECK_GRACE_S": "15",  # default: an hour; the worker would not check within the test
    "SIGNALBANK_BATCH_SIZE": "1",  # replay checks after each batch: the last minutes come on their own
    "SIGNALBANK_CHECK_INTERVAL_S": "0.5",
}
DEFAULTS: dict[str, Any] = {
    "check_after_s": 86_400.0,
    "retention_days": 90,
    "check_grace_s": 3_600.0,
    "batch_size": 500,
}


def _transaction(customer: str, n: int, at: datetime, kind: str, amount: str) -> dict[str, Any]:
    return {
        "event_id": f"{customer}-{n}",
        "customer_id": customer,
        "occurred_at": at.isoformat(),
        "account_id": f"{customer}-A",
        "kind": kind,
        "amount": amount,
        "currency": "EUR",
        "channel": "mobile",
        "balance_after": f"{4000 + 10 * n}.00",
    }


def story(t0: datetime) -> list[dict[str, Any]]:
    """Every event in the order it is produced (and written to the replay's file).

    SILENT, LATE and STEADY act every 1.5 days, then go quiet 41.5 days before ``t0`` (SILENT's
    salary stops). LATE's last event arrives late, 108 days older than its newest. A minute or two
    before ``t0`` CLOCK acts twice, and between the two BACKLOG's history arrives late, all of it
    older than two days: replay checks BACKLOG only if the grace after processing it has passed
    by CLOCK's second event.
    """
    quiet_since = t0 - timedelta(days=41.5)  # mid-way through a two-day check period
    start = quiet_since - timedelta(days=15)
    rows: list[dict[str, Any]] = []
    for customer, offset in (("SILENT", 0), ("LATE", 7), ("STEADY", 13)):
        times = [start + timedelta(days=1.5 * i, minutes=offset) for i in range(11)]
        rows.extend(_transaction(customer, n, at, "card_payment", "42.00") for n, at in enumerate(times))
    rows.append(_transaction("SILENT", 20, start, "salary_credit", "2500.00"))
    rows.append(_transaction("SILENT", 21, quiet_since, "salary_credit", "2500.00"))
    rows.sort(key=lambda r: str(r["occurred_at"]))
    rows.append(_transaction("LATE", 30, quiet_since - timedelta(days=108), "card_payment", "7.00"))
    rows.append(_transaction("CLOCK", 0, t0 - timedelta(minutes=2), "card_payment", "1.00"))
    rows.append(_transaction("BACKLOG", 0, start, "salary_credit", "2500.00"))
    rows.append(_transaction("BACKLOG", 1, quiet_since, "salary_credit", "2500.00"))
    rows.append(_transaction("CLOCK", 1, t0 - timedelta(minutes=1), "card_payment", "1.00"))
    return rows


def _active_days(rows: list[dict[str, Any]], customer: str) -> int:
    return len({str(r["occurred_at"])[:10] for r in rows if r["customer_id"] == customer})


@pytest.fixture
def t0() -> datetime:
    """Now, a few minutes clear of midnight UTC: profiles are read as of a day, and replay's day
    (the watermark's) and the worker's (the wall clock's) must be the same one."""
    now = datetime.now(UTC)
    after_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    if after_midnight < timedelta(minutes=5) or after_midnight > timedelta(hours=23, minutes=58):
        time.sleep((timedelta(minutes=5) - after_midnight).total_seconds() % 86_400)
        now = datetime.now(UTC)
    return now.replace(microsecond=0)


@pytest.fixture
def rules_dir(tmp_path: Path, t0: datetime) -> Path:
    """The default rules and one that holds only when the late event counted as an active day."""
    folder = tmp_path / "rules"
    folder.mkdir()
    for path in DEFAULT_RULES_DIR.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    (folder / "parity.yaml").write_text(
        f"""rules:
  - id: {LATE_RULE}
    kind: care
    description: Active on as many days as only a retention reaching the late event counts
    when: profile.active_days >= {_active_days(story(t0), "LATE")}
    action: None (a test of the retention setting)
    message: "{{profile.active_days}} active days"
    cooldown: 365d
"""
    )
    return folder


@pytest.fixture
def own_broker() -> Iterator[EmbeddedKafka]:
    with EmbeddedKafka() as broker:
        create_topics(broker.bootstrap, partitions=4)
        yield broker


def output_id(record: dict[str, Any]) -> str:
    for name in ("alert_id", "offer_event_id", "signal_id", "change_id"):
        if name in record:
            return str(record[name])
    raise AssertionError(f"no id in {record}")


def by_id(seen: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    return {topic: {output_id(r): r for r in records} for topic, records in seen.items()}


def replay_outputs(
    tmp_path: Path, t0: datetime, redis_url: str, ruleset: Ruleset, settings: Settings
) -> dict[str, dict[str, dict[str, Any]]]:
    """``signalbank replay`` of the story with ``settings``: output id -> record, per output topic."""
    name = f"replay-{len(list(tmp_path.glob('replay-*')))}"
    events = tmp_path / f"{name}.transactions.jsonl"
    events.write_text("".join(json.dumps(row) + "\n" for row in story(t0)))
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    options = ReplayOptions(
        files=(events,),
        redis_url=redis_url,
        settings=settings,
        churn_model=load_churn_model(settings.churn_model),
        out_dir=tmp_path / name,
    )
    asyncio.run(replay(options, ruleset))
    found: dict[str, list[dict[str, Any]]] = {}
    for topic in OUTPUT_TOPICS:
        path = tmp_path / name / f"{topic}.jsonl"
        found[topic] = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return by_id(found)


def without_check_times(outputs: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The outputs, with the clock times of silence checks left out: the worker's clock is the wall
    clock at its check, replay's the watermark a minute before the test (compared on their own)."""
    return {
        topic: {
            key: {
                field: value
                for field, value in record.items()
                if not (_by_check(record) and field.endswith("_at"))
            }
            for key, record in records.items()
        }
        for topic, records in outputs.items()
    }


def check_times(outputs: dict[str, dict[str, dict[str, Any]]]) -> list[datetime]:
    return [
        datetime.fromisoformat(record["occurred_at"])
        for records in outputs.values()
        for record in records.values()
        if _by_check(record)
    ]


def _by_check(record: dict[str, Any]) -> bool:
    return str(record.get("trigger_event_id", "")).startswith("check:")


def test_replay_with_the_workers_settings_gives_the_workers_outputs(
    own_broker: EmbeddedKafka,
    redis_server: EmbeddedRedis,
    rules_dir: Path,
    t0: datetime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)  # the worker copies the environment; replay reads it too
    use_rules_only(tmp_path, monkeypatch)  # the story's alerts come from its rules' weights
    settings = Settings()
    ruleset = load_ruleset([rules_dir])
    base = redis_server.url.rsplit("/", 1)[0]
    replayed = replay_outputs(tmp_path, t0, f"{base}/1", ruleset, settings)

    # the story has outputs each setting changes: silence checks (one after a backlog), the late rule
    quiet = [r for r in replayed[CHURN_ALERTS].values() if _by_check(r)]
    assert sorted((r["customer_id"], [x["rule_id"] for x in r["reasons"]]) for r in quiet) == [
        ("BACKLOG", ["churn.salary_stopped"]),
        ("SILENT", ["churn.salary_stopped"]),
    ]
    assert [r["customer_id"] for r in replayed[SIGNALS].values() if r["rule_id"] == LATE_RULE] == ["LATE"]

    worker_db = f"{base}/0"
    client = redis.Redis.from_url(worker_db)
    client.flushdb()
    client.close()
    worker = WorkerProcess(
        own_broker.url, worker_db, partitions=4, rules_dir=rules_dir, app_id=f"parity-{os.getpid()}"
    )
    worker.start()
    try:
        worker.wait_ready()
        messages = [(TRANSACTIONS, str(r["customer_id"]).encode(), json.dumps(r).encode()) for r in story(t0)]
        produce(own_broker.bootstrap, messages)
        seen = collect(
            own_broker.bootstrap,
            lambda seen: all(len({output_id(r) for r in seen[t]}) >= len(replayed[t]) for t in OUTPUT_TOPICS),
            timeout=60.0,
            settle=3.0,  # and nothing more comes
        )
    finally:
        worker.stop()
    live = by_id(seen)
    assert without_check_times(live) == without_check_times(replayed), worker.log_tail()
    # each check at its clock: the worker's seconds after t0, replay's the watermark a minute before
    assert len(check_times(live)) == len(check_times(replayed)) > 0
    assert all(t0 - timedelta(minutes=3) < at < t0 + timedelta(minutes=3) for at in check_times(live))

    # Negative controls: with the default value of any one of these settings, other outputs
    for field, default in DEFAULTS.items():
        other = replay_outputs(
            tmp_path, t0, f"{base}/2", ruleset, settings.model_copy(update={field: default})
        )
        assert without_check_times(other) != without_check_times(replayed), f"{field}={default}"
    defaults = replay_outputs(tmp_path, t0, f"{base}/2", ruleset, settings.model_copy(update=DEFAULTS))
    assert without_check_times(defaults) != without_check_times(replayed)
