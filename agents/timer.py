"""The silence-check timer: re-evaluates customers who went quiet, with no event to trigger them.

Every tick it takes the customers whose check is due by the wall clock (leased, so workers share
the work and a crash only delays a check), runs the pipeline's ``check``, delivers the outputs
exactly as the ingest agent does, and only then reschedules them. Work per round is bounded; a
tick keeps taking rounds while more are due, for at most about one timer interval.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from agents.decode import utc_now
from agents.ingest import send_outputs, until_redis_answers
from agents.pipeline import Pipeline
from streams.app import app, runtime, settings

log = logging.getLogger(__name__)


async def check_due(pipeline: Pipeline, now: datetime, limit: int, lease: timedelta) -> int:
    """Check one round of customers due by ``now``; return how many were taken."""
    due = await until_redis_answers(lambda: pipeline.take_due(now, limit, lease), "taking due checks")
    if not due.customer_ids:
        return 0
    result = await until_redis_answers(
        lambda: pipeline.check(due.customer_ids, now), f"checks of {len(due.customer_ids)} customers"
    )
    await send_outputs(result.outputs)
    await until_redis_answers(lambda: pipeline.settle(result, due.leased_until_ms), "rescheduling checks")
    dropped = sum(1 for next_ms in result.next_checks.values() if next_ms is None)
    log.info(
        "silence checks as of %s: %d customers, %d outputs, %d left the schedule",
        now.isoformat(),
        len(due.customer_ids),
        len(result.outputs),
        dropped,
    )
    return len(due.customer_ids)


async def run_checks(pipeline: Pipeline, budget_s: float) -> int:
    """Rounds of checks by the wall clock until none is due or ``budget_s`` is spent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    lease = timedelta(seconds=settings.check_lease_s)
    checked = 0
    while True:
        taken = await check_due(pipeline, utc_now(), settings.check_batch, lease)
        checked += taken
        if taken < settings.check_batch or loop.time() >= deadline:
            return checked
        await asyncio.sleep(0)  # let the ingest agent and the web server in between rounds


async def silence_checks() -> None:
    """Re-evaluate every customer whose silence check is due."""
    try:
        await run_checks(runtime.pipeline, settings.check_interval_s)
    except Exception:  # a failed delivery must not stop the timer: the leases make the checks due again
        log.exception("silence checks failed; retried when their lease of %.0fs ends", settings.check_lease_s)


#: The Faust timer, registered with the app when this module is imported (by ``streams.app.main``).
timer = app.timer(interval=settings.check_interval_s)(silence_checks)
