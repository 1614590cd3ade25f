"""Writes simulated events to JSONL files, one per input topic, for replays without Kafka.

The file names are the ones replay and ``churn fit`` read (``streams/backtest/eventfiles.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS
from streams.sim.event import SimEvent

JSONL_FILES: Final = {
    TRANSACTIONS: "transactions.jsonl",
    INTERACTIONS: "interactions.jsonl",
    CUSTOMERS: "customers.jsonl",
}


def write_jsonl(
    events: Iterable[SimEvent], out_dir: Path, *, include_invalid: bool = False
) -> dict[str, int]:
    """Write one JSONL file per input topic (for replays without Kafka); lines per topic.

    Broken messages are left out unless ``include_invalid`` (some of them are not JSON at all).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(JSONL_FILES, 0)
    handles = {topic: (out_dir / name).open("wb") for topic, name in JSONL_FILES.items()}
    try:
        for event in events:
            if not event.valid and not include_invalid:
                continue
            handle = handles.get(event.topic)
            if handle is None:
                raise ValueError(f"not an input topic: {event.topic}")
            handle.write(event.value.replace(b"\n", b" ") + b"\n")
            counts[event.topic] += 1
    finally:
        for handle in handles.values():
            handle.close()
    return counts
