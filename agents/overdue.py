"""How long the earliest silence check has been due: the figure that shows the checks falling behind.

The timer takes every due customer each interval, so in a worker that keeps up the earliest check
is at most about one interval overdue; a figure that keeps growing means rounds cannot take what
comes due (too many customers per worker, Redis too slow) or the timer does not run at all.
"""

from __future__ import annotations

import logging
from datetime import datetime

from redis.exceptions import RedisError

from agents.metrics import Metrics
from agents.times import epoch_ms
from sinks.redis.client import RedisClient
from sinks.redis.schedule_head import earliest_check_ms

log = logging.getLogger(__name__)

#: How often a worker measures it (seconds): one read of every schedule shard.
OVERDUE_INTERVAL_S = 15.0


def overdue_seconds(earliest_ms: int | None, now_ms: int) -> float:
    """Seconds the earliest check is past due; 0 when nothing is due (or scheduled)."""
    if earliest_ms is None:
        return 0.0
    return max(0, now_ms - earliest_ms) / 1000


async def measure_overdue(client: RedisClient, metrics: Metrics, now: datetime) -> None:
    """Set the overdue gauge from the schedule; left as it was when Redis does not answer. The read
    also keeps ``signalbank_redis_up`` current in a worker with no events to process (else it would
    read 0, its initial value, until the first batch)."""
    try:
        earliest = await earliest_check_ms(client)
    except (RedisError, OSError) as exc:
        metrics.redis_up.set(0)
        log.warning("cannot read the silence-check schedule (%s); overdue figure not updated", exc)
        return
    metrics.redis_up.set(1)
    metrics.silence_overdue.set(overdue_seconds(earliest, epoch_ms(now)))
