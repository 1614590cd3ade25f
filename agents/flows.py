"""A customer's money flows for a chart: inflow and outflow per stored bucket over the last 90 days.

Staff ask "what came in and what went out lately"; the profile keeps exactly that in its buckets
(sinks/redis/profile_state.py): one per day for the ``DAILY_DAYS`` up to the latest event day, one
per week before. So the series is daily where the store is and weekly where it is not, never
interpolated: each point says how many days it covers. Its totals are the profile's
``inflow_90d`` / ``outflow_90d`` (the same buckets, the same window: every day of the last 90 and a
week that reaches into them, whole).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from redis.client import NEVER_DECODE

from schemas.profile.delta import MS_PER_DAY
from schemas.profile.shape import DAILY_DAYS, Metric
from sinks.redis.client import RedisClient
from sinks.redis.keys import profile_key
from sinks.redis.profile_state import ProfileState, decode, week_of

#: Days the chart covers, up to and including the day of its time.
FLOW_DAYS = 90
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class FlowPoint:
    """Money in and out of one stored bucket: ``days`` 1 (a day) or up to 7 (a week, or the part of
    one older than the daily buckets), starting on ``start``."""

    start: str  # ISO date (UTC day)
    days: int
    inflow: float  # currency units of the reporting currency, to the cent
    outflow: float


@dataclass(frozen=True, slots=True)
class Flows:
    """The points oldest first, with their totals; an empty day is a point of zeros."""

    customer_id: str
    as_of: str  # ISO 8601, UTC
    days: int  # the window: FLOW_DAYS
    points: tuple[FlowPoint, ...]
    inflow_total: float
    outflow_total: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _day_iso(day: int) -> str:
    return (_EPOCH + timedelta(days=day)).isoformat()


def _point(start: int, days: int, values: list[int] | None) -> FlowPoint:
    if values is None:
        return FlowPoint(_day_iso(start), days, 0.0, 0.0)
    return FlowPoint(_day_iso(start), days, values[Metric.INFLOW] / 100, values[Metric.OUTFLOW] / 100)


def flow_points(state: ProfileState, now_ms: int, window_days: int = FLOW_DAYS) -> tuple[FlowPoint, ...]:
    """The buckets of ``state`` in the ``window_days`` up to ``now_ms``'s day, oldest first (pure).

    Days after the latest event day (a quiet customer) are daily zeros. Buckets after ``now_ms``'s
    day (a time before the latest event) are left out; a week is shown whole, so one that holds
    ``now_ms``'s day may hold later days too.
    """
    today = now_ms // MS_PER_DAY
    first = today - window_days + 1
    ref = state.ref_day if state.ref_day is not None else today
    daily_from = ref - DAILY_DAYS + 1  # older days are merged into their week
    points: list[FlowPoint] = []
    day = first
    while day <= today:
        if day >= daily_from:
            points.append(_point(day, 1, state.days.get(day)))
            day += 1
            continue
        week = week_of(day)
        start, end = week * 7, min(week * 7 + 6, daily_from - 1)
        points.append(_point(start, end - start + 1, state.weeks.get(week)))
        day = end + 1
    return tuple(points)


def flows_of(customer_id: str, state: ProfileState, now_ms: int, window_days: int = FLOW_DAYS) -> Flows:
    """The chart's series and totals for one stored profile as of ``now_ms`` (pure)."""
    points = flow_points(state, now_ms, window_days)
    as_of = datetime.fromtimestamp(now_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
    return Flows(
        customer_id,
        as_of,
        window_days,
        points,
        round(sum(p.inflow for p in points), 2),
        round(sum(p.outflow for p in points), 2),
    )


async def read_flows(client: RedisClient, customer_id: str, now_ms: int) -> Flows | None:
    """The customer's flows as stored now (read only: one GET, no script); None if unknown."""
    blob = await client.execute_command("GET", profile_key(customer_id), **{NEVER_DECODE: True})
    if not blob:
        return None
    _, state = decode(blob)
    if state.ref_day is None:
        return None
    return flows_of(customer_id, state, now_ms)
