"""Event files: merged by event time across files, topics from names or ``type``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS
from streams.backtest.eventfiles import MergeStats, merged, topic_for_file
from tests.unit.streams.backtest.event_rows import T0, login, write


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
