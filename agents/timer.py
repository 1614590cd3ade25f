"""The silence-check timer: re-evaluates customers who went quiet, with no event to trigger them.

It also runs the deadline checks of open complaints (agents/deadlines.py), which are due at a
moment rather than after a quiet day: its period (``SIGNALBANK_CHECK_INTERVAL_S``, at most 60 s) is
how late an SLA alert can go out after its deadline.

Every tick it runs rounds of silence checks (agents/checks.py) by the wall clock, waiting out Redis
outages instead of dropping the work: the customers due are taken under a lease (so workers share
the work and a crash only delays a check), checked, their outputs delivered exactly as the ingest
agent does, and only then rescheduled. Work per round is bounded; a tick keeps taking rounds while
more are due, for at most about one timer interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from agents.checks import Guard, SilenceChecks
from agents.decode import utc_now
from agents.ingest import until_redis_answers
from agents.metrics import Metrics
from agents.outputs import Deliver

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TimerConfig:
    """How the timer takes checks (from the settings' ``check_*`` values)."""

    interval_s: float  # period of the timer, and the budget of one tick
    batch: int  # customers taken per round
    lease: timedelta  # taken customers are hidden from other workers this long


def _patient(metrics: Metrics) -> Guard:
    """Each Redis call of a round waits out an outage with backoff instead of failing the round."""

    async def guard(call: Callable[[], Awaitable[T]], what: str) -> T:
        return await until_redis_answers(call, what, metrics)

    return guard


async def check_due(
    checks: SilenceChecks, now: datetime, limit: int, lease: timedelta, deliver: Deliver, metrics: Metrics
) -> int:
    """Check one round of customers due by ``now``; return how many were taken."""
    done = await checks.round(now, limit, lease, deliver, _patient(metrics))
    if done.taken:
        log.info(
            "silence checks as of %s: %d customers, %d outputs, %d left the schedule",
            now.isoformat(),
            done.taken,
            done.outputs,
            done.dropped,
        )
    return done.taken


async def run_checks(checks: SilenceChecks, config: TimerConfig, deliver: Deliver, metrics: Metrics) -> int:
    """Rounds of checks by the wall clock until none is due or one interval is spent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.interval_s
    checked = 0
    while True:
        taken = await check_due(checks, utc_now(), config.batch, config.lease, deliver, metrics)
        checked += taken
        if taken < config.batch or loop.time() >= deadline:
            return checked
        await asyncio.sleep(0)  # let the ingest agent and the web server in between rounds


async def silence_checks(
    checks: SilenceChecks, config: TimerConfig, deliver: Deliver, metrics: Metrics
) -> None:
    """Re-evaluate every customer whose silence check is due."""
    try:
        await run_checks(checks, config, deliver, metrics)
    except Exception:  # a failed delivery must not stop the timer: the leases make the checks due again
        lease_s = config.lease.total_seconds()
        log.exception("silence checks failed; retried when their lease of %.0fs ends", lease_s)
