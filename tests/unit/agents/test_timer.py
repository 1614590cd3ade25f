"""The silence-check timer's loop with a fake round: rounds until one is short or the interval is
spent, Redis outages waited out, and a failing delivery never stops the timer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

import agents.ingest as ingest_module
from agents.checks import Guard, Round, SilenceChecks
from agents.metrics import Metrics
from agents.outputs import Deliver, OutputRecord
from agents.timer import TimerConfig, check_due, run_checks, silence_checks

LEASE = timedelta(seconds=60)


class FakeChecks:
    """Answers each round with the next of ``taken`` (0 once they run out), or raises ``error``."""

    def __init__(self, taken: Sequence[int], error: Exception | None = None, delay: float = 0.0) -> None:
        self.taken = list(taken)
        self.error = error
        self.delay = delay
        self.rounds: list[tuple[datetime, int, timedelta]] = []

    async def round(
        self, now: datetime, limit: int, lease: timedelta, deliver: Deliver, guard: Guard
    ) -> Round:
        self.rounds.append((now, limit, lease))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        taken = self.taken.pop(0) if self.taken else 0
        return Round(taken, taken, 0)


async def nowhere(outputs: Sequence[OutputRecord]) -> None:
    return None


def run(checks: FakeChecks, config: TimerConfig) -> int:
    return asyncio.run(run_checks(cast(SilenceChecks, checks), config, nowhere, Metrics()))


def test_rounds_go_on_while_full_and_stop_after_a_short_one() -> None:
    checks = FakeChecks([10, 10, 4, 10])
    assert run(checks, TimerConfig(interval_s=30, batch=10, lease=LEASE)) == 24
    assert len(checks.rounds) == 3
    assert {(limit, lease) for _, limit, lease in checks.rounds} == {(10, LEASE)}
    before = datetime.now(UTC)
    assert all(abs(now - before) < timedelta(seconds=5) for now, _, _ in checks.rounds)  # the wall clock


def test_an_empty_schedule_takes_one_round() -> None:
    checks = FakeChecks([])
    assert run(checks, TimerConfig(interval_s=30, batch=10, lease=LEASE)) == 0
    assert len(checks.rounds) == 1


def test_full_rounds_stop_once_the_interval_is_spent() -> None:
    checks = FakeChecks([10] * 100, delay=0.02)
    assert run(checks, TimerConfig(interval_s=0.05, batch=10, lease=LEASE)) == 10 * len(checks.rounds)
    assert 1 <= len(checks.rounds) < 10  # a round takes 20 ms: about 3 fit in 50 ms, never 100


def test_a_failing_round_is_logged_and_the_timer_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    checks = FakeChecks([], error=ConnectionError("broker away"))
    config = TimerConfig(interval_s=30, batch=10, lease=LEASE)
    with caplog.at_level(logging.ERROR, logger="agents.timer"):
        asyncio.run(silence_checks(cast(SilenceChecks, checks), config, nowhere, Metrics()))
    assert len(checks.rounds) == 1
    (record,) = caplog.records
    assert "retried when their lease of 60s ends" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], ConnectionError)


class GuardedChecks:
    """A round whose one Redis call fails ``failures`` times before it answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    async def round(
        self, now: datetime, limit: int, lease: timedelta, deliver: Deliver, guard: Guard
    ) -> Round:
        async def take() -> int:
            self.attempts += 1
            if self.attempts <= self.failures:
                raise RedisConnectionError("down")
            return 3

        taken = await guard(take, "taking due checks")
        return Round(taken, 0, 0)


def test_a_round_s_redis_calls_wait_out_an_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoWait:
        def compute(self, failures: int) -> float:
            return 0.0

    monkeypatch.setattr(ingest_module, "_backoff", NoWait())
    checks = GuardedChecks(failures=2)
    metrics = Metrics()
    now = datetime(2026, 3, 1, tzinfo=UTC)
    taken = asyncio.run(check_due(cast(SilenceChecks, checks), now, 10, LEASE, nowhere, metrics))
    assert (taken, checks.attempts) == (3, 3)
    assert metrics.registry.get_sample_value("signalbank_redis_up") == 1.0
