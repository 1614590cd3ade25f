"""Consumer lag per partition: the fetch high-water mark minus the group's committed offset.

Both are "next offset" numbers (the high-water mark is the offset the next produced event gets, a
committed offset the next one the group reads), so their difference is the number of events on the
partition that the group has not finished. The high-water mark comes with every fetch response, so
it is right on any broker that answers fetches, the embedded one included. Only partitions assigned
to this worker are shown: after a rebalance a partition's figure moves to its new owner, and the
old owner drops it instead of showing a stale value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import Gauge


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """One assigned partition as the consumer sees it; None = not known yet."""

    topic: str
    partition: int
    highwater: int | None  # from the latest fetch response; None before the first one
    committed: int | None  # the next offset the group reads; None when nothing was committed


def lag_of(offsets: PartitionOffsets) -> int | None:
    """Events not yet committed; None until a fetch told the high-water mark.

    Nothing committed yet counts from offset 0 (the group reads from the earliest offset): on a
    topic whose oldest segments were deleted this overstates the lag until the first commit.
    """
    if offsets.highwater is None:
        return None
    return max(0, offsets.highwater - (offsets.committed or 0))


class ConsumerLag:
    """Keeps the lag gauge equal to the latest reading of the assigned partitions."""

    def __init__(self, gauge: Gauge) -> None:
        self._gauge = gauge
        self._shown: set[tuple[str, str]] = set()

    def update(self, partitions: Iterable[PartitionOffsets]) -> None:
        """Set every partition whose lag is known; forget the ones no longer assigned."""
        shown: set[tuple[str, str]] = set()
        for offsets in partitions:
            lag = lag_of(offsets)
            if lag is None:
                continue
            labels = (offsets.topic, str(offsets.partition))
            self._gauge.labels(*labels).set(lag)
            shown.add(labels)
        for labels in self._shown - shown:
            self._gauge.remove(*labels)
        self._shown = shown
