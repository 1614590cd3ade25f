"""The earliest silence check in the schedule: how far behind the checks are, for the metric.

Taken customers get their lease end as score (schedule_take.lua), so the lowest score over the
shards is the earliest check nobody is working on. One read-only pipeline over every shard (on a
cluster, one call per master, together); the unsharded schedule of earlier versions is left out.
"""

from __future__ import annotations

from typing import cast

from sinks.redis.client import RedisClient
from sinks.redis.keys import SCHEDULE_SHARDS, schedule_shard_key


async def earliest_check_ms(client: RedisClient) -> int | None:
    """When the earliest scheduled check is due (ms since the epoch); None when none is scheduled."""
    pipe = client.pipeline(transaction=False)
    for shard in range(SCHEDULE_SHARDS):
        pipe.zrange(schedule_shard_key(shard), 0, 0, withscores=True)
    replies = cast(list[list[tuple[str, float]]], await pipe.execute())
    scores = [entries[0][1] for entries in replies if entries]
    return int(min(scores)) if scores else None
