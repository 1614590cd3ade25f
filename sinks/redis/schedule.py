"""The silence-check schedule: when each customer is next re-evaluated without an event, in shards.

The schedule is ``SCHEDULE_SHARDS`` sorted sets, a customer's by a hash of their id
(``sinks/redis/keys.py``), so in a Redis Cluster it spreads over every master. Workers take due
customers under a lease (schedule_take.lua), so no two check the same customer at once and a
crashed check is retried when its lease ends; settling (schedule_settle.lua) never undoes a check
that a new event moved meanwhile. Each call touches every shard it needs at once: one script call
(one round trip) on one server, one call per shard sent to all masters together on a cluster.

Members are opaque strings to this module: a customer id (the customer's silence check) or a
deadline check ``<customer>@<due ms>`` (agents/deadlines.py), each in the shard of its own name.
A deadline member is settled with None (checked once, then dropped) like a customer leaving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sinks.redis.client import RedisClient, script
from sinks.redis.keys import LEGACY_SCHEDULE_KEY, SCHEDULE_SHARDS, schedule_key, schedule_shard_key
from sinks.redis.slots import run_calls, slot_groups

#: Customers moved from the unsharded schedule per round trip by ``Schedule.migrate``.
MIGRATE_CHUNK = 1000
#: Once the unsharded schedule was found empty, ``take_due`` looks at it again at most this often
#: (by the takes' own clock), for workers of the previous version still writing it.
LEGACY_RECHECK_MS = 60_000


class Schedule:
    """Schedules, takes and settles silence checks over the schedule's shards."""

    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self._take = client.register_script(script("schedule_take.lua"))
        self._settle = client.register_script(script("schedule_settle.lua"))
        self._forget_legacy = client.register_script(script("schedule_migrate.lua"))
        self._first_shard = 0  # where the next take starts: rotates, so no shard is always served last
        self._legacy_gone = False  # the unsharded schedule was found empty (next_check skips it)
        self._legacy_recheck_ms = 0  # when take_due next looks at it once gone

    async def schedule(self, next_checks: Mapping[str, int]) -> None:
        """Set customers' next silence check (ms), only ever moving a check later, never earlier."""
        by_shard: dict[str, dict[str, int]] = {}
        for customer_id, next_ms in next_checks.items():
            by_shard.setdefault(schedule_key(customer_id), {})[customer_id] = next_ms
        await self._add_later(by_shard)

    async def take_due(self, now_ms: int, limit: int, leased_until_ms: int) -> list[str]:
        """Take up to ``limit`` customers due by ``now_ms``, leased until ``leased_until_ms``.

        Fair to every shard: each pass shares what is still wanted evenly among the shards that may
        hold more (a shard that gave less than its share has nothing more due), the first ones in an
        order that rotates with every call getting one more; passes go on until ``limit`` customers
        were taken or no shard has more. Only what is returned is leased, and fewer than ``limit``
        means nothing else is due. Order: shard by shard, earliest due first within a shard.
        Moves what a previous version left in the unsharded schedule first (``migrate``; once it
        is empty, again every ``LEGACY_RECHECK_MS`` of ``now_ms``).
        """
        if not self._legacy_gone or now_ms >= self._legacy_recheck_ms:
            await self.migrate()
            self._legacy_recheck_ms = now_ms + LEGACY_RECHECK_MS
        if limit <= 0:
            return []
        first = self._first_shard
        self._first_shard = (first + 1) % SCHEDULE_SHARDS
        may_have_more = [(first + n) % SCHEDULE_SHARDS for n in range(SCHEDULE_SHARDS)]
        taken: list[str] = []
        while len(taken) < limit and may_have_more:
            share, extra = divmod(limit - len(taken), len(may_have_more))
            asked = [(shard, share + (n < extra)) for n, shard in enumerate(may_have_more)]
            asked = [(shard, most) for shard, most in asked if most > 0]  # a prefix: the rest wait
            replies = await self._take_from(asked, now_ms, leased_until_ms)
            for customers in replies:
                taken.extend(customers)
            full = [shard for (shard, most), got in zip(asked, replies, strict=True) if len(got) == most]
            may_have_more = full + may_have_more[len(asked) :]
        return taken

    async def settle(self, next_checks: Mapping[str, int | None], leased_until_ms: int) -> None:
        """After checks taken with ``leased_until_ms``: reschedule each customer, or drop it (None)."""
        items = list(next_checks.items())
        keys = [schedule_key(customer_id) for customer_id, _ in items]
        calls: list[tuple[list[str], list[Any]]] = []
        for group in slot_groups(self._client, keys):
            args: list[Any] = [leased_until_ms]
            for i in group:
                customer_id, next_ms = items[i]
                args.extend((customer_id, "" if next_ms is None else next_ms))
            calls.append(([keys[i] for i in group], args))
        await run_calls(self._client, self._settle, calls)

    async def forget(self, members: Sequence[str]) -> None:
        """Drop ``members`` from the schedule whatever their lease: for a replay (one process on its
        own Redis), whose batches evaluate some deadline checks themselves (agents/pipeline.py)."""
        by_key: dict[str, list[str]] = {}
        for member in members:
            by_key.setdefault(schedule_key(member), []).append(member)
        await asyncio.gather(*(self._client.zrem(key, *found) for key, found in by_key.items()))

    async def next_check(self, customer_id: str) -> int | None:
        """When ``customer_id`` is next checked (ms), None when it is not scheduled."""
        score = await self._client.zscore(schedule_key(customer_id), customer_id)
        if not self._legacy_gone:  # not migrated yet: the later of the two is what will happen
            legacy = await self._client.zscore(LEGACY_SCHEDULE_KEY, customer_id)
            if legacy is not None and (score is None or legacy > score):
                score = legacy
        return None if score is None else int(score)

    async def migrate(self) -> int:
        """Move the customers still in the unsharded schedule (``sb:schedule``) into their shards.

        Idempotent and safe beside workers of the previous version: each customer is copied with
        ZADD GT (a check is only ever moved later) and then removed from the old key only if its
        score there is unchanged (schedule_migrate.lua); a customer moved meanwhile is copied again.
        One round trip when there is nothing to move. Returns how many customers were moved.
        """
        moved = 0
        while True:
            entries = cast(
                list[tuple[str, float]],
                await self._client.zrange(LEGACY_SCHEDULE_KEY, 0, MIGRATE_CHUNK - 1, withscores=True),
            )
            if not entries:
                self._legacy_gone = True
                return moved
            checks = {member: int(score) for member, score in entries}
            by_shard: dict[str, dict[str, int]] = {}
            for customer_id, next_ms in checks.items():
                by_shard.setdefault(schedule_key(customer_id), {})[customer_id] = next_ms
            await self._add_later(by_shard)
            pairs = [value for item in checks.items() for value in item]
            removed = int(await self._forget_legacy(keys=[LEGACY_SCHEDULE_KEY], args=pairs))
            moved += removed
            if not removed:  # every one was moved meanwhile by an old worker: again next round
                return moved

    async def _add_later(self, by_shard: Mapping[str, Mapping[str, int]]) -> None:
        """ZADD GT into each shard; several shards in one pipeline (on a cluster: per master)."""
        if len(by_shard) == 1:
            ((key, members),) = by_shard.items()
            await self._client.zadd(key, dict(members), gt=True)
        elif by_shard:
            pipe = self._client.pipeline(transaction=False)
            for key, members in by_shard.items():
                pipe.zadd(key, dict(members), gt=True)
            await pipe.execute()

    async def _take_from(
        self, asked: Sequence[tuple[int, int]], now_ms: int, leased_until_ms: int
    ) -> list[list[str]]:
        """schedule_take.lua on each asked shard (with the most to take from it): what each gave."""
        keys = [schedule_shard_key(shard) for shard, _ in asked]
        groups = slot_groups(self._client, keys)
        calls = [
            ([keys[i] for i in group], [now_ms, leased_until_ms, *(asked[i][1] for i in group)])
            for group in groups
        ]
        replies = cast(list[list[list[str]]], await run_calls(self._client, self._take, calls))
        taken: list[list[str]] = [[] for _ in asked]
        for group, reply in zip(groups, replies, strict=True):
            for i, customers in zip(group, reply, strict=True):
                taken[i] = customers
        return taken
