"""One round of silence checks: take the due customers, check them, deliver the outputs, then settle.

The worker's timer (agents/timer.py, by the wall clock, waiting out Redis outages) and replay
(streams/backtest/replay.py, by the event-time watermark) run the same round. Customers are taken
under a lease, so workers share the work and a crash between taking and settling only delays a
check; they are rescheduled only after their outputs were delivered.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from agents.metrics import Metrics
from agents.outputs import Deliver
from agents.pipeline import Pipeline
from agents.silence import CheckResult
from agents.times import epoch_ms, millis
from sinks.redis.schedule import Schedule

T = TypeVar("T")


class Guard(Protocol):
    """Runs one Redis call of the round; ``what`` names it for a log line (retries, say)."""

    def __call__(self, call: Callable[[], Awaitable[T]], what: str) -> Awaitable[T]: ...


async def once(call: Callable[[], Awaitable[T]], what: str) -> T:
    """Run the call once: a failure fails the round (replay: Redis is local, and an outage is fatal)."""
    return await call()


@dataclass(frozen=True, slots=True)
class DueChecks:
    """Customers taken for a silence check, hidden from other takers until ``leased_until_ms``."""

    customer_ids: tuple[str, ...]
    leased_until_ms: int


@dataclass(frozen=True, slots=True)
class Round:
    """What one round did: customers checked, outputs delivered, customers that left the schedule."""

    taken: int
    outputs: int
    dropped: int


class SilenceChecks:
    """Silence checks of the pipeline's customers against the schedule, in rounds."""

    def __init__(self, pipeline: Pipeline, schedule: Schedule, metrics: Metrics) -> None:
        self._pipeline = pipeline
        self._schedule = schedule
        self._metrics = metrics

    async def take_due(self, now: datetime, limit: int, lease: timedelta) -> DueChecks:
        """Take up to ``limit`` customers whose check is due by ``now``, leased for ``lease``."""
        leased_until = epoch_ms(now) + millis(lease)
        started = time.perf_counter()
        taken = await self._schedule.take_due(epoch_ms(now), limit, leased_until)
        self._metrics.redis.labels("take_due").observe(time.perf_counter() - started)
        return DueChecks(tuple(taken), leased_until)

    async def settle(self, result: CheckResult, leased_until_ms: int) -> None:
        """After the outputs of checks taken with ``leased_until_ms`` were delivered: reschedule."""
        started = time.perf_counter()
        await self._schedule.settle(result.next_checks, leased_until_ms)
        self._metrics.redis.labels("settle").observe(time.perf_counter() - started)

    async def round(
        self, now: datetime, limit: int, lease: timedelta, deliver: Deliver, guard: Guard = once
    ) -> Round:
        """Check up to ``limit`` customers due by ``now``: take, check, deliver, settle."""
        due = await guard(lambda: self.take_due(now, limit, lease), "taking due checks")
        if not due.customer_ids:
            return Round(0, 0, 0)
        customers = due.customer_ids
        result = await guard(
            lambda: self._pipeline.check(customers, now), f"checks of {len(customers)} customers"
        )
        await deliver(result.outputs)
        await guard(lambda: self.settle(result, due.leased_until_ms), "rescheduling checks")
        dropped = sum(1 for next_ms in result.next_checks.values() if next_ms is None)
        return Round(len(customers), len(result.outputs), dropped)
