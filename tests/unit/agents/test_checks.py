"""One round of silence checks on a real Redis: take, check, deliver, then settle, in that order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

import pytest

from agents.checks import Round
from agents.outputs import OutputRecord
from rules.load.ruleset import Ruleset
from sinks.redis.keys import schedule_key
from sinks.redis.state import RedisState
from tests.support.quiet_customer import DAY_MS, LAST, LAST_MS, make, salary_records
from tests.support.redis_state import make_checks, with_state

T = TypeVar("T")
NOW = LAST + timedelta(days=40)
LEASE = timedelta(seconds=60)
LEASED_UNTIL = int(NOW.timestamp() * 1000) + 60_000


def test_a_round_delivers_before_it_settles(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset)
        await pipeline.process(salary_records())
        checks = make_checks(pipeline, state)
        seen: list[tuple[list[str], int | None]] = []

        async def deliver(outputs: Sequence[OutputRecord]) -> None:
            # still leased while the outputs go out: a crash here makes the check due again
            seen.append(([o.topic for o in outputs], await state.schedule.next_check("QUIET")))

        done = await checks.round(NOW, 10, LEASE, deliver)
        assert done == Round(taken=1, outputs=len(seen[0][0]), dropped=0)
        assert seen == [(seen[0][0], LEASED_UNTIL)] and seen[0][0]
        assert await state.schedule.next_check("QUIET") == LAST_MS + 41 * DAY_MS
        assert await checks.round(NOW, 10, LEASE, deliver) == Round(0, 0, 0)  # nothing due any more
        assert len(seen) == 1

    with_state(redis_url, body)


def test_a_failed_delivery_leaves_the_customer_leased_and_due_again(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset)
        await pipeline.process(salary_records())
        checks = make_checks(pipeline, state)

        async def broken(outputs: Sequence[OutputRecord]) -> None:
            raise ConnectionError("broker away")

        with pytest.raises(ConnectionError):
            await checks.round(NOW, 10, LEASE, broken)
        assert await state.schedule.next_check("QUIET") == LEASED_UNTIL  # not settled
        assert await state.client.zcard(schedule_key("QUIET")) == 1

        delivered: list[OutputRecord] = []

        async def deliver(outputs: Sequence[OutputRecord]) -> None:
            delivered.extend(outputs)

        after_lease = NOW + LEASE
        done = await checks.round(after_lease, 10, LEASE, deliver)
        assert done.taken == 1 and delivered  # the same check again, same ids, once the lease ended

    with_state(redis_url, body)


def test_every_redis_call_of_a_round_goes_through_the_guard(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        pipeline = make(state, ruleset)
        await pipeline.process(salary_records())
        checks = make_checks(pipeline, state)
        names: list[str] = []

        async def guard(call: Callable[[], Awaitable[T]], what: str) -> T:
            names.append(what)
            return await call()

        async def deliver(outputs: Sequence[OutputRecord]) -> None:
            names.append("deliver")

        await checks.round(NOW, 10, LEASE, deliver, guard)
        assert names == ["taking due checks", "checks of 1 customers", "deliver", "rescheduling checks"]
        names.clear()
        await checks.round(NOW, 10, LEASE, deliver, guard)
        assert names == ["taking due checks"]  # nothing due: no check, no delivery, no settle

    with_state(redis_url, body)
