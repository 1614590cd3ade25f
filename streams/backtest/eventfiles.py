"""Read JSONL event files (one input event per line) merged into one event-time-ordered stream.

Replay and ``churn fit`` read the same files the simulator writes (and that a bank exports): one
JSON object per line. Which input topic a line belongs to comes from its optional ``type`` field
(``transaction``, ``interaction``, ``customer``), else from the file name (``transactions.jsonl``,
``bank.interactions.v1.jsonl``, ...). Lines are handed on as raw bytes, exactly as Kafka would
deliver them, so the worker's own decoding, dead-lettering and processing apply unchanged.

Each file is expected in event-time order (exports usually are); files are merged with a heap, so
memory stays flat whatever their size. A line that goes back in time inside its file is still
processed where it stands and counted in ``MergeStats.out_of_order``; a line whose time cannot be
read keeps the position of its predecessor and will be dead-lettered by the decoder.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson

from agents.decode import RawRecord
from schemas.catalog import CUSTOMERS, INPUT_TOPICS, INTERACTIONS, TRANSACTIONS

_BY_TYPE = {"transaction": TRANSACTIONS, "interaction": INTERACTIONS, "customer": CUSTOMERS}
_BY_NAME = (("transaction", TRANSACTIONS), ("interaction", INTERACTIONS), ("customer", CUSTOMERS))
UNKNOWN_TOPIC = "unknown"


def topic_for_file(path: Path) -> str:
    """Input topic implied by a file name, or ``unknown`` (then each line needs a ``type``)."""
    name = path.name.lower()
    for topic in INPUT_TOPICS:
        if name.startswith(topic):
            return topic
    return next((topic for word, topic in _BY_NAME if word in name), UNKNOWN_TOPIC)


@dataclass(slots=True)
class MergeStats:
    lines: int = 0
    out_of_order: dict[str, int] = field(default_factory=dict)
    last_ms: int = 0  # event time of the latest line read: the replay's watermark


def _millis(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000) if moment.tzinfo is not None else None


def _lines(path: Path, stats: MergeStats) -> Iterator[tuple[int, str, bytes, bytes | None]]:
    """(event time ms, topic, raw line, customer key) of one file, in file order."""
    default_topic = topic_for_file(path)
    previous = 0
    with path.open("rb") as handle:
        for raw in handle:
            line = raw.strip()
            if not line:
                continue
            topic, moment, key = default_topic, None, None
            try:
                body = orjson.loads(line)
            except orjson.JSONDecodeError:
                body = None
            if isinstance(body, dict):
                topic = _BY_TYPE.get(str(body.get("type", "")), default_topic)
                moment = _millis(body.get("occurred_at"))
                customer = body.get("customer_id")
                key = customer.encode() if isinstance(customer, str) else None
            if moment is None:
                moment = previous
            elif moment < previous:
                stats.out_of_order[str(path)] = stats.out_of_order.get(str(path), 0) + 1
            previous = max(previous, moment)
            yield moment, topic, line, key


def merged(paths: Sequence[Path], stats: MergeStats | None = None) -> Iterator[RawRecord]:
    """Every line of ``paths`` as a raw record, merged by event time (ties keep file order)."""
    stats = stats if stats is not None else MergeStats()
    streams = [
        ((moment, index, topic, line, key) for moment, topic, line, key in _lines(path, stats))
        for index, path in enumerate(paths)
    ]
    for moment, _, topic, line, key in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        stats.lines += 1
        stats.last_ms = max(stats.last_ms, moment)
        yield RawRecord(topic, 0, stats.lines - 1, key, line)
