"""Event files: merged by event time across files, topics from names or ``type``; churn fit on them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS
from streams.backtest.churn_fit import fit_files
from streams.backtest.eventfiles import MergeStats, merged, topic_for_file
from streams.config import pipeline_config
from streams.settings import Settings
from tests.unit.schemas.profile.test_bgnbd import TRUE, draw

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def login(customer: str, n: int, when: datetime) -> dict[str, object]:
    return {
        "event_id": f"{customer}-{n}",
        "customer_id": customer,
        "occurred_at": when.isoformat(),
        "kind": "login",
        "channel": "mobile",
    }


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_files_merge_in_event_time_and_keep_bad_lines_in_place(tmp_path: Path) -> None:
    a = write(
        tmp_path / "interactions.jsonl",
        [login("A", 1, T0), "{not json", login("A", 2, T0 + timedelta(hours=5))],
    )
    b = write(
        tmp_path / "mixed.jsonl",
        [
            {**login("B", 1, T0 + timedelta(hours=1)), "type": "interaction"},
            {
                "type": "customer",
                "event_id": "m",
                "customer_id": "B",
                "occurred_at": (T0 + timedelta(hours=2)).isoformat(),
            },
            login("B", 3, T0 + timedelta(hours=9)),
            {**login("B", 2, T0 + timedelta(hours=3)), "type": "interaction"},  # goes back in time
        ],
    )
    stats = MergeStats()
    records = list(merged([a, b], stats))
    assert [json.loads(r.value)["event_id"] if r.value.startswith(b'{"') else "bad" for r in records] == [
        "A-1",
        "bad",
        "B-1",
        "m",
        "A-2",
        "B-3",
        "B-2",
    ]
    assert [r.topic for r in records][:4] == [INTERACTIONS, INTERACTIONS, INTERACTIONS, CUSTOMERS]
    assert records[5].topic == "unknown"  # no type and a file name naming no topic: dead-lettered later
    assert records[0].key == b"A" and records[1].key is None
    assert stats.out_of_order == {str(b): 1} and stats.lines == 7
    assert topic_for_file(Path("bank.transactions.v1.jsonl")) == TRANSACTIONS


def test_churn_fit_on_event_files_recovers_the_generating_parameters(tmp_path: Path) -> None:
    repeats, last, ages = draw(3000, 365.0, seed=11)
    rows: list[object] = []
    for c, (x, t_x) in enumerate(zip(repeats, last, strict=True)):
        # the first active day, then x more whose last is t_x days later (spread evenly before it)
        days = sorted({0, *(round(t_x * (i + 1) / x) for i in range(x))}) if x else [0]
        rows.extend(login(f"C{c}", i, T0 + timedelta(days=d, hours=10)) for i, d in enumerate(days))
    rows.append(login("END", 0, T0 + timedelta(days=ages[0], hours=10)))
    rows.sort(key=lambda r: r["occurred_at"])  # type: ignore[index]
    result = fit_files([write(tmp_path / "interactions.jsonl", rows)], pipeline_config(Settings()))
    assert result.events == len(rows) and result.skipped == 0
    # same-day repeats collapse to one active day, so allow a looser fit than the continuous one
    assert abs(result.params.r - TRUE.r) / TRUE.r < 0.35
    assert abs(result.params.a - TRUE.a) / TRUE.a < 0.5
