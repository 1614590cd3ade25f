"""Everything a worker keeps in Redis, built in one place from one client.

The runtime, replay, the benches and the tests all construct their Redis state with
``redis_state``, so a new store is wired once and no caller registers scripts of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sinks.redis.claims import ClaimStore
from sinks.redis.client import RedisClient
from sinks.redis.profiles import ProfileStore
from sinks.redis.schedule import Schedule


@dataclass(frozen=True, slots=True)
class RedisState:
    """The profile store, the claims and the silence-check schedule, sharing one client (one server
    or a cluster: ``sinks/redis/client.py``)."""

    client: RedisClient
    profiles: ProfileStore
    claims: ClaimStore
    schedule: Schedule

    async def aclose(self) -> None:
        """Close the shared client's connections."""
        await self.client.aclose()


def redis_state(
    client: RedisClient, retention_days: int, dedupe_capacity: int, profile_cache: int = 20_000
) -> RedisState:
    """Register every script on ``client`` (nothing is sent until the first call)."""
    return RedisState(
        client,
        ProfileStore(client, retention_days, dedupe_capacity, profile_cache),
        ClaimStore(client),
        Schedule(client),
    )
