"""The simulator's output unit: one raw Kafka message and what we know about it.

Its own module because every step after generation (Kafka, JSONL files, benches, fault tests)
handles ``SimEvent`` and nothing else of the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One raw Kafka message as a producer would send it, plus what we know about it."""

    topic: str
    key: bytes
    value: bytes
    occurred_at: datetime
    customer_id: str
    valid: bool = True
    """False for deliberately broken messages (they must be dead-lettered by the consumer)."""
