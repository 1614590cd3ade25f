"""The ingest consumer's partitions as ``PartitionOffsets``, read from Faust's consumer.

The high-water mark is aiokafka's, from the latest fetch response of each partition; the committed
offset is the one Faust last committed for the group (or found committed when the partition was
assigned). Faust keeps the latter only in a private mapping, hence the one ``getattr`` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.lag import PartitionOffsets

#: How often the worker reads its consumer's lag (seconds): cheap, no broker call.
LAG_INTERVAL_S = 1.0


def partition_offsets(consumer: Any) -> list[PartitionOffsets]:
    """Every partition assigned to ``consumer`` (a Faust consumer), with what it knows of it."""
    try:
        assigned = sorted(consumer.assignment())
    except Exception:  # not started yet, or between two generations of the group
        return []
    committed: Mapping[Any, int | None] = getattr(consumer, "_committed_offset", {})
    offsets = []
    for tp in assigned:
        try:
            highwater = consumer.highwater(tp)
        except (AssertionError, AttributeError):  # unassigned meanwhile (aiokafka asserts)
            continue
        offsets.append(PartitionOffsets(tp.topic, tp.partition, highwater, committed.get(tp)))
    return offsets
