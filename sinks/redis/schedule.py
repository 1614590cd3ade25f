"""The silence-check schedule (``SCHEDULE_KEY``): when each customer is next re-evaluated without an event.

Workers take due customers under a lease (schedule_take.lua), so no two check the same customer at
once and a crashed check is retried when its lease ends; settling (schedule_settle.lua) never
undoes a check that a new event moved meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sinks.redis.client import RedisClient, script
from sinks.redis.keys import SCHEDULE_KEY


class Schedule:
    """Schedules, takes and settles silence checks; one round trip per call."""

    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self._take = client.register_script(script("schedule_take.lua"))
        self._settle = client.register_script(script("schedule_settle.lua"))

    async def schedule(self, next_checks: Mapping[str, int]) -> None:
        """Set customers' next silence check (ms), only ever moving a check later, never earlier."""
        if next_checks:
            await self._client.zadd(SCHEDULE_KEY, dict(next_checks), gt=True)

    async def take_due(self, now_ms: int, limit: int, leased_until_ms: int) -> list[str]:
        """Take up to ``limit`` customers due by ``now_ms``, leased until ``leased_until_ms``."""
        return cast(list[str], await self._take(keys=[SCHEDULE_KEY], args=[now_ms, limit, leased_until_ms]))

    async def settle(self, next_checks: Mapping[str, int | None], leased_until_ms: int) -> None:
        """After checks taken with ``leased_until_ms``: reschedule each customer, or drop it (None)."""
        if not next_checks:
            return
        args: list[Any] = [leased_until_ms]
        for customer_id, next_ms in next_checks.items():
            args.extend((customer_id, "" if next_ms is None else next_ms))
        await self._settle(keys=[SCHEDULE_KEY], args=args)

    async def next_check(self, customer_id: str) -> int | None:
        """When ``customer_id`` is next checked (ms), None when it is not scheduled."""
        score = await self._client.zscore(SCHEDULE_KEY, customer_id)
        return None if score is None else int(score)
