"""Replay sends a complaint's SLA alerts at their deadlines by the watermark: the 48-hour breach is
stamped within a minute after 48 hours, though the next event (the watermark's next step) comes
days later (real Redis)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rules.load.ruleset import Ruleset
from schemas.catalog import SERVICE_ALERTS
from streams.backtest.replay import ReplayOptions, replay
from streams.settings import Settings

OPENED = datetime(2026, 2, 3, 14, 25, 17, tzinfo=UTC)


def interaction(customer: str, n: int, at: datetime, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "interaction",
        "event_id": f"{customer}-{n}",
        "customer_id": customer,
        "occurred_at": at.isoformat(),
        "kind": kind,
        "channel": "call_centre",
        **extra,
    }


def test_replay_stamps_the_warning_and_the_breach_at_their_deadlines(
    tmp_path: Path, redis_url: str, ruleset: Ruleset
) -> None:
    rows = [
        interaction("GRUMPY", 0, OPENED, "complaint_opened", reference="CMP-9"),
        interaction("GRUMPY", 1, OPENED + timedelta(hours=1), "login"),
        interaction("OTHER", 0, OPENED + timedelta(days=4), "login"),  # the watermark jumps 4 days
        interaction("GRUMPY", 2, OPENED + timedelta(days=5), "login"),
    ]
    events = tmp_path / "interactions.jsonl"
    events.write_text("".join(json.dumps(row) + "\n" for row in rows))
    options = ReplayOptions(
        files=(events,),
        redis_url=redis_url,
        settings=Settings(batch_size=1),  # the watermark moves event by event, as in a large replay
        out_dir=tmp_path / "out",
    )
    asyncio.run(replay(options, ruleset))
    path = tmp_path / "out" / f"{SERVICE_ALERTS}.jsonl"
    sent = [json.loads(line) for line in path.read_text().splitlines()]
    stamped = {a["rule_id"]: datetime.fromisoformat(a["occurred_at"]) - OPENED for a in sent}
    assert set(stamped) == {"service.complaint_sla_warning", "service.complaint_sla_breached"}
    assert timedelta(hours=36) <= stamped["service.complaint_sla_warning"] < timedelta(hours=36, minutes=1)
    assert timedelta(hours=48) <= stamped["service.complaint_sla_breached"] < timedelta(hours=48, minutes=1)
