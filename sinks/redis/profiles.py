"""Customer profiles in Redis: one scripted round trip applies a whole batch and returns every profile.

Retries with exponential backoff come from redis-py's own ``Retry`` (sinks/redis/client.py); a batch
is only acknowledged to Kafka after this call succeeded, so a Redis outage delays processing but
loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis

from schemas.profile.delta import MS_PER_DAY, ProfileUpdate
from schemas.profile.shape import METRIC_COUNT, WINDOWS, Metric
from sinks.redis.client import script
from sinks.redis.keys import customer_keys


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """What the store returns for one update: was it a duplicate, the state hash, the window sums."""

    duplicate: bool
    state: dict[str, str]
    sums: tuple[int, ...]
    active_days: int = 0  # days with customer activity, lifetime (the BG/NBD frequency + 1)


class ProfileStore:
    """Applies profile updates and reads profiles, each batch in a single Lua call."""

    def __init__(self, client: aioredis.Redis, retention_days: int, dedupe_capacity: int) -> None:
        self._retention_days = retention_days
        self._dedupe_capacity = dedupe_capacity
        self._update = client.register_script(script("profile_update.lua"))

    def _header(self) -> list[Any]:
        """Arguments every call of the update script starts with (see the script's header)."""
        windows = ",".join(map(str, WINDOWS))
        return [METRIC_COUNT, self._retention_days, self._dedupe_capacity, windows, Metric.ACTIVE + 1]

    async def apply(self, updates: Sequence[ProfileUpdate], committed: str = "") -> list[StoredProfile]:
        """Apply ``updates`` in order (idempotent by event id) and return each resulting profile.

        ``committed``: the consumer group's committed offsets (``CommittedOffsets.packed``). Each
        dedupe ring tracks its events until then (Kafka may deliver them again); before them, only
        the last ``dedupe_capacity`` ids are kept.
        """
        if not updates:
            return []
        keys: list[str] = []
        args = self._header()
        args.append(committed)
        for update in updates:
            keys.extend(customer_keys(update.customer_id))
            increments = ",".join(map(str, update.increments))
            fields = [update.event_id, str(update.ts_ms), str(update.day), update.position, increments]
            fields.extend(value for op in update.ops for value in op)
            args.append("\t".join(fields))
        replies = cast(list[list[Any]], await self._update(keys=keys, args=args))
        return [_stored(reply) for reply in replies]

    async def read(self, customer_id: str, now_ms: int | None = None) -> StoredProfile:
        """Read one profile without changing it (see ``read_many``)."""
        return (await self.read_many([customer_id], now_ms))[0]

    async def read_many(self, customer_ids: Sequence[str], now_ms: int | None = None) -> list[StoredProfile]:
        """Read profiles in one round trip, windows as of ``now_ms`` (default: each one's latest event day).

        A profile with no state is empty (never seen, or expired). Reading as of a day later than a
        profile's latest event leaves buckets older than the retention as of that day out of the
        sums but does not delete them (only applied events trim).
        """
        if not customer_ids:
            return []
        day = (now_ms // MS_PER_DAY) if now_ms is not None else 0
        keys: list[str] = []
        args = self._header()
        args.append("")
        for customer_id in customer_ids:
            keys.extend(customer_keys(customer_id))
            args.append(f"\t{now_ms or 0}\t{day}\t\t")
        replies = cast(list[list[Any]], await self._update(keys=keys, args=args))
        return [_stored(reply) for reply in replies]


def _stored(reply: list[Any]) -> StoredProfile:
    flat = reply[1]
    state = dict(zip(flat[::2], flat[1::2], strict=True))
    try:
        sums = tuple(map(int, reply[2].split(",")))
    except ValueError:  # Lua wrote a very large sum in exponent notation
        sums = tuple(int(float(v)) for v in reply[2].split(","))
    return StoredProfile(duplicate=bool(reply[0]), state=state, sums=sums, active_days=int(reply[3]))
