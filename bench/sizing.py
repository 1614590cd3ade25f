"""Sizing a deployment from one benchmark run: customers -> Redis memory and shards, peak events/s
-> Redis shards and workers.

Only figures measured in the run go in (``Measured``); everything else is a stated assumption
(``Assumptions``), printed with the result, so a reader can redo the sums with their own. Pure
arithmetic, no I/O: ``bench/e2e.py`` builds the figures from its report and prints the lines.

>>> lines = sizing_lines(Measured(1_000.0, 90, 25.0, 30.0, 4_000.0), Assumptions(customers=(1_000_000,),
...                      peaks=(10_000.0,)))
>>> [line.strip() for line in lines if "customers:" in line or "events/s at the peak" in line]
['1,000,000 customers:      1.0 GB of profiles,      2.0 GB with headroom:    1 shard', \
'10,000 events/s at the peak:    1 Redis shard,    5 workers (3 at their full rate), >= 5 partitions']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GB = 1e9


@dataclass(frozen=True, slots=True)
class Measured:
    """What the run measured; None where a step did not run."""

    bytes_per_profile: float | None  # mean MEMORY USAGE of a customer's keys (the memory step)
    profile_days: int  # days of history behind that figure
    redis_us_per_event: float | None  # INFO commandstats µs per event, one worker over the backlog
    redis_cpu_us_per_event: float | None  # the Redis server's CPU per event over the same run
    worker_rate: float | None  # one worker's events/s over the backlog
    cluster_us_per_event: float | None = None  # commandstats µs per event summed over the masters
    cluster_cpu_us_per_event: float | None = None  # the masters' CPU per event, summed
    cluster_masters: int = 0
    shared_bytes_per_customer: float = 0.0  # keys of no one customer (silence schedule) per customer


@dataclass(frozen=True, slots=True)
class Assumptions:
    """What the sizing takes that the run does not measure."""

    customers: tuple[int, ...] = (1_000_000, 20_000_000, 100_000_000)
    peaks: tuple[float, ...] = (10_000.0, 50_000.0)  # events/s at the busiest time
    shard_memory_gb: float = 25.0  # memory of one Redis master's host
    #: Share of a shard's memory the profiles may fill. A snapshot or a replica's sync forks Redis,
    #: and profile updates touch pages everywhere, so copy-on-write can need as much again; the
    #: rest covers fragmentation and growth.
    fill: float = 0.5
    #: Share of one core a shard may spend on our commands at the peak: Redis runs commands on one
    #: thread, and half leaves room for bursts, replication and reads by operators.
    redis_busy: float = 0.5
    #: Share of its measured rate a worker runs at the peak: the latency target (p99 <= 100 ms) is
    #: measured at half of one worker's capacity.
    worker_busy: float = 0.5


def sizing_lines(measured: Measured, assume: Assumptions = Assumptions()) -> list[str]:
    """The sizing section of the benchmark's output (empty when nothing it needs was measured)."""
    lines: list[str] = []
    if measured.bytes_per_profile:
        lines.extend(_memory(measured, measured.bytes_per_profile, assume))
    redis_us = _redis_us(measured)
    if redis_us or measured.worker_rate:
        lines.extend(_load(measured, redis_us, assume))
    if not lines:
        return []
    notes = []
    if measured.bytes_per_profile and redis_us:
        notes.append(
            "a deployment needs the larger of the two shard counts, for its customers and for its peak"
        )
    if measured.worker_rate:
        notes.append("the worker's rate was measured here, on cores it shares with the broker and Redis")
    return [
        "  sizing (only this run's figures; the assumptions are bench/sizing.py's Assumptions):",
        *lines,
        *(f"    {note}" for note in notes),
    ]


def _memory(measured: Measured, own: float, assume: Assumptions) -> list[str]:
    usable = assume.shard_memory_gb * assume.fill
    shared = measured.shared_bytes_per_customer
    per_profile = own + shared
    lines = [
        f"    memory: {per_profile:,.0f} B per customer ({own:,.0f} B of its keys with "
        f"{measured.profile_days} days of history, the memory step"
        + (f"; {shared:,.0f} B of keys of no one customer, the worker's run" if shared else "")
        + f"); profiles fill at most {assume.fill:.0%} of a {assume.shard_memory_gb:.0f} GB shard "
        f"({usable:.1f} GB)"
    ]
    for customers in assume.customers:
        data = per_profile * customers / GB
        shards = max(1, math.ceil(data / usable))
        lines.append(
            f"      {customers:>11,} customers: {data:>8.1f} GB of profiles, {data / assume.fill:>8.1f} GB "
            f"with headroom: {shards:>4} {_plural(shards, 'shard')}"
        )
    return lines


def _redis_us(measured: Measured) -> float | None:
    """µs of a Redis core per event to size by: the server's CPU (requests read and replies written
    included), on the cluster if it ran (a batch's calls are split per master there). INFO
    commandstats only where no CPU figure was taken: it counts wall time inside commands, which a
    machine shared with the workers and the broker inflates whenever Redis loses its core."""
    for figure in (
        measured.cluster_cpu_us_per_event,
        measured.redis_cpu_us_per_event,
        measured.cluster_us_per_event,
        measured.redis_us_per_event,
    ):
        if figure:
            return figure
    return None


def _load(measured: Measured, redis_us: float | None, assume: Assumptions) -> list[str]:
    lines: list[str] = []
    per_shard = per_worker = 0.0
    if redis_us:
        per_shard = assume.redis_busy * 1e6 / redis_us
        taken = [
            f"{what} {figure:.1f} µs"
            for what, figure in (
                ("one Redis: CPU", measured.redis_cpu_us_per_event),
                ("commandstats", measured.redis_us_per_event),
                (f"{measured.cluster_masters}-master cluster: CPU", measured.cluster_cpu_us_per_event),
                ("commandstats", measured.cluster_us_per_event),
            )
            if figure
        ]
        lines.append(
            f"    Redis: {redis_us:.1f} µs of a core per event ({', '.join(taken)}); a shard busy at most "
            f"{assume.redis_busy:.0%} of its core takes {per_shard:,.0f} events/s"
        )
    if measured.worker_rate:
        per_worker = measured.worker_rate * assume.worker_busy
        lines.append(
            f"    workers: one takes {measured.worker_rate:,.0f} events/s; at most "
            f"{assume.worker_busy:.0%} of that at the peak: {per_worker:,.0f} events/s each, one partition "
            "or more per worker"
        )
    for peak in assume.peaks:
        parts: list[str] = []
        if per_shard:
            shards = max(1, math.ceil(peak / per_shard))
            parts.append(f"{shards:>4} Redis {_plural(shards, 'shard')}")
        if per_worker and measured.worker_rate:
            workers = max(1, math.ceil(peak / per_worker))
            flat_out = max(1, math.ceil(peak / measured.worker_rate))
            parts.append(
                f"{workers:>4} {_plural(workers, 'worker')} ({flat_out} at their full rate), "
                f">= {workers} partitions"
            )
        lines.append(f"      {peak:>7,.0f} events/s at the peak: {', '.join(parts)}")
    return lines


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"
