"""Event-file lines for the backtest tests: logins of one customer, written one JSON object a line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

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
