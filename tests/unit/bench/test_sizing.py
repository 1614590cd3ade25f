"""Sizing from a run's figures (pure arithmetic: the figures are made up here)."""

from __future__ import annotations

from bench.sizing import Assumptions, Measured, sizing_lines

ONE_EACH = Assumptions(customers=(20_000_000,), peaks=(50_000.0,))


def test_customers_give_memory_and_shards_and_the_peak_gives_shards_and_workers() -> None:
    text = "\n".join(sizing_lines(Measured(1_000.0, 90, 20.0, 40.0, 2_500.0), ONE_EACH))
    # 20M x 1,000 B = 20 GB of profiles, 40 GB at 50% fill: 2 shards of 25 GB (12.5 GB usable each)
    assert "20,000,000 customers:     20.0 GB of profiles,     40.0 GB with headroom:    2 shards" in text
    # 40 µs per event at 50% of a core: 12,500 events/s per shard; 1,250 per worker at half its rate
    assert "takes 12,500 events/s" in text
    assert "50,000 events/s at the peak:    4 Redis shards,   40 workers (20 at their full rate)" in text
    assert ">= 40 partitions" in text


def test_redis_is_sized_by_the_server_cpu_on_the_cluster_when_it_ran_else_on_one_redis() -> None:
    on_cluster = "\n".join(sizing_lines(Measured(None, 0, 40.0, 20.0, None, 50.0, 45.0, 3), ONE_EACH))
    assert (
        "Redis: 45.0 µs of a core per event (one Redis: CPU 20.0 µs, commandstats 40.0 µs, 3-master "
        "cluster: CPU 45.0 µs, commandstats 50.0 µs)"
    ) in on_cluster
    one_redis = sizing_lines(Measured(None, 0, 40.0, 20.0, None), ONE_EACH)
    assert any("Redis: 20.0 µs of a core per event" in line for line in one_redis)
    assert not any("workers" in line for line in one_redis)
    by_commands = sizing_lines(Measured(None, 0, 40.0, None, None), ONE_EACH)
    assert any("Redis: 40.0 µs of a core per event (commandstats 40.0 µs)" in line for line in by_commands)


def test_nothing_measured_gives_no_section() -> None:
    assert sizing_lines(Measured(None, 0, None, None, None)) == []


def test_the_notes_are_only_those_the_figures_call_for() -> None:
    memory_only = sizing_lines(Measured(1_000.0, 90, None, None, None), ONE_EACH)
    assert not any("larger of the two" in line or "worker's rate" in line for line in memory_only)
    everything = sizing_lines(Measured(1_000.0, 90, 20.0, 40.0, 2_500.0), ONE_EACH)
    assert everything[-2:] == [
        "    a deployment needs the larger of the two shard counts, for its customers and for its peak",
        "    the worker's rate was measured here, on cores it shares with the broker and Redis",
    ]
