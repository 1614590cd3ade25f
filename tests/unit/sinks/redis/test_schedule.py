"""The silence-check schedule against a real Redis: shards taken fairly, leases, settling, checks only
ever moved later, the unsharded schedule migrated (on a cluster: tests/integration/test_cluster_state.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import redis

from sinks.redis.keys import (
    LEGACY_SCHEDULE_KEY,
    SCHEDULE_SHARDS,
    schedule_key,
    schedule_shard,
    schedule_shard_key,
)
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


def ids_in_shard(shard: int, count: int, prefix: str = "C") -> list[str]:
    """``count`` customer ids whose checks live in ``shard``."""
    found: list[str] = []
    n = 0
    while len(found) < count:
        if schedule_shard(f"{prefix}{n}") == shard:
            found.append(f"{prefix}{n}")
        n += 1
    return found


def test_checks_spread_over_the_shards_and_are_read_from_their_own(redis_url: str) -> None:
    async def body(schedule: Schedule) -> None:
        checks = {f"C{n}": 1_000 + n for n in range(640)}
        await schedule.schedule(checks)
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            sizes = [client.zcard(schedule_shard_key(shard)) for shard in range(SCHEDULE_SHARDS)]
            assert sum(sizes) == 640 and min(sizes) > 0  # every shard holds some
            assert client.zscore(schedule_key("C7"), "C7") == 1_007
            assert not client.exists(LEGACY_SCHEDULE_KEY)
        finally:
            client.close()
        assert [await schedule.next_check(c) for c in ("C0", "C639")] == [1_000, 1_639]
        taken = await schedule.take_due(10_000, 1_000, 70_000)
        assert sorted(taken) == sorted(checks)  # fewer than the limit: everything due
        await schedule.settle(dict.fromkeys(taken[:320], 200_000) | dict.fromkeys(taken[320:]), 70_000)
        assert await schedule.next_check(taken[0]) == 200_000
        assert await schedule.next_check(taken[-1]) is None

    with_schedule(redis_url, body)


def test_a_crowded_shard_does_not_starve_the_others_and_the_limit_is_kept(redis_url: str) -> None:
    crowded = ids_in_shard(5, 300)
    singles = [ids_in_shard(shard, 1, "S")[0] for shard in (0, 17, 40, 63)]

    async def body(schedule: Schedule) -> None:
        await schedule.schedule(dict.fromkeys(crowded, 1_000) | dict.fromkeys(singles, 2_000))
        # each shard's share comes first (2 each of 64 x 2 = 128), the rest goes to who has more
        first = await schedule.take_due(10_000, 128, 70_000)
        assert len(first) == 128 and set(singles) <= set(first)
        assert len(set(first)) == 128
        rest = await schedule.take_due(10_000, 1_000, 70_000)
        assert sorted([*first, *rest]) == sorted([*crowded, *singles])  # each taken once

    with_schedule(redis_url, body)


def test_one_at_a_time_every_shard_s_turn_comes_within_one_rotation(redis_url: str) -> None:
    crowded = ids_in_shard(5, 200)
    singles = [ids_in_shard(shard, 1, "S")[0] for shard in (0, 6, 31, 62)]

    async def body(schedule: Schedule) -> None:
        await schedule.schedule(dict.fromkeys(crowded, 1_000) | dict.fromkeys(singles, 1_000))
        taken = [await schedule.take_due(10_000, 1, 70_000) for _ in range(SCHEDULE_SHARDS)]
        assert all(len(t) == 1 for t in taken)
        assert set(singles) <= {t[0] for t in taken}

    with_schedule(redis_url, body)


def test_a_zero_limit_takes_nothing(redis_url: str) -> None:
    async def body(schedule: Schedule) -> None:
        await schedule.schedule({"A": 1})
        assert await schedule.take_due(10, 0, 100) == []
        assert await schedule.next_check("A") == 1

    with_schedule(redis_url, body)


def test_the_unsharded_schedule_moves_into_the_shards_once(redis_url: str) -> None:
    old = {f"OLD{n}": 1_000 + n for n in range(2_500)}  # three chunks of the migration
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.zadd(LEGACY_SCHEDULE_KEY, {**old, "BOTH": 9_000, "LATER_OLD": 8_000})
    client.close()

    async def body(schedule: Schedule) -> None:
        await schedule.schedule({"BOTH": 5_000, "LATER_OLD": 50_000})  # new events meanwhile
        assert await schedule.next_check("BOTH") == 9_000  # not migrated yet: the old key is read
        assert await schedule.migrate() == 2_502
        assert await schedule.migrate() == 0  # a one-off
        assert await schedule.next_check("OLD7") == 1_007
        assert await schedule.next_check("BOTH") == 9_000  # the later of the two
        assert await schedule.next_check("LATER_OLD") == 50_000
        plain = redis.Redis.from_url(redis_url)
        assert not plain.exists(LEGACY_SCHEDULE_KEY)
        plain.close()
        # an old worker writes the old key again (a rolling upgrade): the next round moves it too
        plain = redis.Redis.from_url(redis_url)
        plain.zadd(LEGACY_SCHEDULE_KEY, {"STRAGGLER": 2_000})
        plain.close()
        assert await schedule.take_due(3_000, 10_000, 70_000) != []
        assert await schedule.next_check("STRAGGLER") == 70_000  # taken, under the lease
        # looked at again once a minute (of the takes' clock), not every round
        plain = redis.Redis.from_url(redis_url)
        plain.zadd(LEGACY_SCHEDULE_KEY, {"LATE": 2_000})
        plain.close()
        assert "LATE" not in await schedule.take_due(62_999, 10_000, 130_000)
        assert "LATE" in await schedule.take_due(63_000, 10_000, 130_000)

    with_schedule(redis_url, body)


def test_a_customer_an_old_worker_moves_during_the_migration_is_copied_again(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.zadd(LEGACY_SCHEDULE_KEY, {"A": 1_000, "B": 1_000})
    client.close()

    class Racing(Schedule):
        moves = 0

        async def _add_later(self, by_shard: Mapping[str, Mapping[str, int]]) -> None:
            await super()._add_later(by_shard)
            if not self.moves:  # between the copy and the removal, an old worker leases A
                self.moves += 1
                await self._client.zadd(LEGACY_SCHEDULE_KEY, {"A": 61_000}, xx=True)

    async def body(_: Schedule) -> None:
        state = make_state(redis_url)
        racing = Racing(state.client)
        try:
            assert await racing.migrate() == 2  # B at once, A with its new score in a second copy
            assert await racing.next_check("A") == 61_000
            assert await racing.next_check("B") == 1_000
        finally:
            await state.aclose()

    with_schedule(redis_url, body)
