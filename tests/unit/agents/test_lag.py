"""Consumer lag from offsets: high-water mark minus committed, shown only for assigned partitions."""

from __future__ import annotations

from agents.lag import ConsumerLag, PartitionOffsets, lag_of
from agents.metrics import Metrics


def shown(metrics: Metrics) -> dict[tuple[str, str], float]:
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for family in metrics.consumer_lag.collect()
        for s in family.samples
    }


def test_lag_is_highwater_minus_committed_and_counts_from_zero_before_a_commit() -> None:
    assert lag_of(PartitionOffsets("t", 0, highwater=120, committed=100)) == 20
    assert lag_of(PartitionOffsets("t", 0, highwater=120, committed=120)) == 0
    assert lag_of(PartitionOffsets("t", 0, highwater=120, committed=None)) == 120
    assert lag_of(PartitionOffsets("t", 0, highwater=None, committed=5)) is None


def test_committed_past_a_stale_highwater_is_no_negative_lag() -> None:
    assert lag_of(PartitionOffsets("t", 0, highwater=10, committed=12)) == 0


def test_partitions_no_longer_assigned_disappear_and_unknown_ones_are_not_shown() -> None:
    metrics = Metrics()
    lag = ConsumerLag(metrics.consumer_lag)
    lag.update(
        [
            PartitionOffsets("a", 0, 50, 10),
            PartitionOffsets("a", 1, 7, 7),
            PartitionOffsets("b", 0, None, None),
        ]
    )
    assert shown(metrics) == {("a", "0"): 40.0, ("a", "1"): 0.0}

    lag.update([PartitionOffsets("a", 1, 9, 7), PartitionOffsets("b", 0, 3, None)])  # a rebalance took a/0
    assert shown(metrics) == {("a", "1"): 2.0, ("b", "0"): 3.0}

    lag.update([])
    assert shown(metrics) == {}
