"""The silence-check schedule against a real Redis: leases, settling, checks only ever moved later."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sinks.redis.schedule import Schedule
from tests.support.redis_state import make_state


def with_schedule(url: str, body: Callable[[Schedule], Awaitable[None]]) -> None:
    async def go() -> None:
        state = make_state(url)
        try:
            await body(state.schedule)
        finally:
            await state.aclose()

    asyncio.run(go())


def test_take_due_leases_so_two_takers_never_share_a_customer(redis_url: str) -> None:
    async def body(schedule: Schedule) -> None:
        other_state = make_state(redis_url)
        other = other_state.schedule
        try:
            await schedule.schedule({f"C{i}": 1_000 + i for i in range(10)} | {"LATER": 50_000})
            lease_end = 5_000 + 60_000
            first, second = await asyncio.gather(
                schedule.take_due(5_000, 4, lease_end), other.take_due(5_000, 4, lease_end)
            )
            assert len(first) == len(second) == 4 and not set(first) & set(second)
            rest = await schedule.take_due(5_000, 4, lease_end)
            assert sorted([*first, *second, *rest]) == [f"C{i}" for i in range(10)]
            assert await schedule.take_due(lease_end - 1, 100, lease_end + 60_000) == ["LATER"]
            # nobody settled them (a crashed worker): due again once the lease has ended
            again = await other.take_due(lease_end, 100, lease_end + 60_000)
            assert sorted(again) == [f"C{i}" for i in range(10)]
        finally:
            await other_state.aclose()

    with_schedule(redis_url, body)


def test_settle_keeps_a_check_an_event_moved_meanwhile(redis_url: str) -> None:
    async def body(schedule: Schedule) -> None:
        await schedule.schedule({"A": 1_000, "B": 1_000, "C": 1_000})
        leased = 70_000
        assert sorted(await schedule.take_due(10_000, 10, leased)) == ["A", "B", "C"]
        await schedule.schedule({"B": 500_000, "C": 600_000})  # events arrived during the checks
        await schedule.settle({"A": 200_000, "B": 300_000, "C": None}, leased)
        assert await schedule.next_check("A") == 200_000
        assert await schedule.next_check("B") == 500_000  # the later of the event's and the check's
        assert await schedule.next_check("C") == 600_000  # not dropped: it is active again
        await schedule.schedule({"A": 100_000})  # and a schedule never moves a check earlier
        assert await schedule.next_check("A") == 200_000

    with_schedule(redis_url, body)


def test_next_check_is_none_for_a_customer_never_scheduled(redis_url: str) -> None:
    async def body(schedule: Schedule) -> None:
        assert await schedule.next_check("NOBODY") is None
        await schedule.schedule({})  # nothing to schedule: no call
        await schedule.settle({}, 1)  # nothing to settle: no call
        assert await schedule.take_due(10**15, 10, 10**15 + 1) == []

    with_schedule(redis_url, body)
