"""Money flows for the staff page's chart: daily where the store keeps days, weekly before, zeros on
empty days, totals equal to the profile's 90-day inflow and outflow, and a stored profile read from a
real Redis."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from itertools import chain, pairwise

from agents.flows import FLOW_DAYS, Flows, flow_points, flows_of, read_flows
from schemas.inputs import InputEvent, TransactionKind
from schemas.profile.delta import MS_PER_DAY, build_update
from schemas.profile.view import build_profile
from sinks.redis.client import RedisClient
from sinks.redis.profile_state import ProfileState
from tests.support.profile_events import DAY0, apply, tx
from tests.support.redis_state import make_state, with_client

RETENTION = 120
DAY0_NUMBER = (DAY0.date() - date(1970, 1, 1)).days


def state_of(*events: tuple[int, float, TransactionKind, str]) -> ProfileState:
    """A profile state with ``(n, day, kind, amount)`` transactions applied in memory."""
    state = ProfileState()
    for n, day, kind, amount in events:
        state.apply(build_update(tx(n, day, kind, amount), "SIGNALBANK"), RETENTION, 64, {})
    return state


def ms_of_day(day: float) -> int:
    return int((DAY0_NUMBER + day) * MS_PER_DAY) + 12 * 3600 * 1000


def test_recent_days_are_daily_with_zeros_and_older_days_weekly() -> None:
    state = state_of(
        (1, 0, TransactionKind.SALARY_CREDIT, "2000.00"),
        (2, 50, TransactionKind.CARD_PAYMENT, "40.00"),
        (3, 80, TransactionKind.SALARY_CREDIT, "2100.00"),
        (4, 88, TransactionKind.CARD_PAYMENT, "12.50"),
    )
    points = flow_points(state, ms_of_day(89))
    recent = (DAY0.date() + timedelta(days=88 - 29)).isoformat()  # the store's days: 30 up to day 88
    daily = [p for p in points if p.start >= recent]
    weekly = [p for p in points if p.start < recent]
    assert len(daily) == 31 and all(p.days == 1 for p in daily)  # ... and day 89, empty so far
    assert daily[-1].start == (DAY0.date() + timedelta(days=89)).isoformat()
    assert (daily[-1].inflow, daily[-1].outflow) == (0.0, 0.0)
    by_start = {p.start: p for p in points}
    assert by_start[(DAY0.date() + timedelta(days=80)).isoformat()].inflow == 2100.0
    assert by_start[(DAY0.date() + timedelta(days=88)).isoformat()].outflow == 12.5
    assert all(p.days <= 7 for p in weekly) and sum(p.days for p in points) >= FLOW_DAYS
    assert sum(p.outflow for p in weekly) == 40.0  # day 50 is in a week bucket now
    starts = [date.fromisoformat(p.start) for p in points]
    assert starts == sorted(starts)
    for before, after in pairwise(points):  # contiguous, no overlap
        assert date.fromisoformat(before.start) + timedelta(days=before.days) == date.fromisoformat(
            after.start
        )


def test_the_totals_are_the_profiles_90_day_flows() -> None:
    state = state_of(
        *((n, n * 3.0, TransactionKind.SALARY_CREDIT, f"{100 + n}.00") for n in range(40)),
        *((100 + n, n * 2.5, TransactionKind.CARD_PAYMENT, f"{10 + n}.25") for n in range(48)),
    )
    for now_day in (117, 125, 140):
        now_ms = ms_of_day(now_day)
        flows = flows_of("C1", state, now_ms)
        profile = build_profile(
            "C1", state.fields, tuple(chain.from_iterable(state.sums_as_of(now_ms // MS_PER_DAY))), now_ms
        )
        assert (flows.inflow_total, flows.outflow_total) == (profile["inflow_90d"], profile["outflow_90d"])
        assert flows.as_of.endswith("Z") and flows.days == FLOW_DAYS


def test_a_time_before_the_latest_event_leaves_later_buckets_out() -> None:
    state = state_of((1, 10, TransactionKind.DEPOSIT, "5.00"), (2, 20, TransactionKind.DEPOSIT, "7.00"))
    points = flow_points(state, ms_of_day(15))
    assert points[-1].start == (DAY0.date() + timedelta(days=15)).isoformat()
    assert sum(p.inflow for p in points) == 5.0


def test_a_stored_profile_is_read_from_redis_and_an_unknown_one_is_none(redis_url: str) -> None:
    events: list[InputEvent] = [
        tx(1, 1, TransactionKind.SALARY_CREDIT, "1500.00"),
        tx(2, 2, TransactionKind.WITHDRAWAL, "60.00"),
    ]
    asyncio.run(apply(make_state(redis_url), events))

    async def both(client: RedisClient) -> tuple[Flows | None, Flows | None]:
        return await read_flows(client, "C1", ms_of_day(3)), await read_flows(client, "NOBODY", ms_of_day(3))

    known, unknown = with_client(redis_url, both)
    assert unknown is None
    assert known is not None and (known.inflow_total, known.outflow_total) == (1500.0, 60.0)
