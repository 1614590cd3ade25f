"""The silence-check timer: re-evaluates customers who went quiet, with no event to trigger them.

Every tick it takes the customers whose check is due by the wall clock (leased, so workers share
the work and a crash only delays a check), runs the pipeline's ``check``, delivers the outputs
exactly as the ingest agent does, and only then reschedules them. Work per round is bounded; a
tick keeps taking rounds while more are due, for at most about one timer interval.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from agents.decode import utc_now
from agents.ingest import Deliver, until_redis_answers
from agents.metrics import Metrics
from agents.pipeline import Pipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TimerConfig:
    """How the timer takes checks (from the settings' ``check_*`` values)."""

    interval_s: float  # period of the timer, and the budget of one tick
    batch: int  # customers taken per round
    lease: timedelta  # taken customers are hidden from other workers this long


async def check_due(
    pipeline: Pipeline, now: datetime, limit: int, lease: timedelta, deliver: Deliver, metrics: Metrics
) -> int:
    """Check one round of customers due by ``now``; return how many were taken."""
    due = await until_redis_answers(
        lambda: pipeline.take_due(now, limit, lease), "taking due checks", metrics
    )
    if not due.customer_ids:
        return 0
    result = await until_redis_answers(
        lambda: pipeline.check(due.customer_ids, now), f"checks of {len(due.customer_ids)} customers", metrics
    )
    await deliver(result.outputs)
    await until_redis_answers(
        lambda: pipeline.settle(result, due.leased_until_ms), "rescheduling checks", metrics
    )
    dropped = sum(1 for next_ms in result.next_checks.values() if next_ms is None)
    log.info(
        "silence checks as of %s: %d customers, %d outputs, %d left the schedule",
        now.isoformat(),
        len(due.customer_ids),
        len(result.outputs),
        dropped,
    )
    return len(due.customer_ids)


async def run_checks(pipeline: Pipeline, config: TimerConfig, deliver: Deliver, metrics: Metrics) -> int:
    """Rounds of checks by the wall clock until none is due or one interval is spent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.interval_s
    checked = 0
    while True:
        taken = await check_due(pipeline, utc_now(), config.batch, config.lease, deliver, metrics)
        checked += taken
        if taken < config.batch or loop.time() >= deadline:
            return checked
        await asyncio.sleep(0)  # let the ingest agent and the web server in between rounds


async def silence_checks(pipeline: Pipeline, config: TimerConfig, deliver: Deliver, metrics: Metrics) -> None:
    """Re-evaluate every customer whose silence check is due."""
    try:
        await run_checks(pipeline, config, deliver, metrics)
    except Exception:  # a failed delivery must not stop the timer: the leases make the checks due again
        lease_s = config.lease.total_seconds()
        log.exception("silence checks failed; retried when their lease of %.0fs ends", lease_s)
