"""Incremental window sums equal a plain recomputation, whatever the order and the gaps.

Windows up to ``DAILY_DAYS`` are exact to the day; longer ones slide by whole weeks (days further
back are kept by week), so they hold every day of the window and at most 6 days more.
"""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.inputs import InputEvent, TransactionKind
from schemas.profile.delta import MS_PER_DAY, build_update
from schemas.profile.shape import DAILY_DAYS, METRIC_COUNT, WINDOWS
from tests.support.profile_events import login, tx
from tests.support.redis_state import make_state

RETENTION = 90
_serial = itertools.count()


def expected(
    events: list[InputEvent], as_of_day: int, extra: int = 0, retention: int = RETENTION
) -> list[int]:
    """Sums per window as the definition says: buckets of days in (as_of - w - extra, as_of]."""
    buckets: dict[int, list[int]] = {}
    latest = None
    for event in events:
        update = build_update(event, "SIGNALBANK")
        latest = update.day if latest is None else max(latest, update.day)
        if update.day > latest - retention:  # an event older than the retention is not counted
            row = buckets.setdefault(update.day, [0] * METRIC_COUNT)
            for i, value in enumerate(update.increments):
                row[i] += value
        for day in [d for d in buckets if d <= latest - retention]:
            del buckets[day]
    sums: list[int] = []
    for width in WINDOWS:
        total = [0] * METRIC_COUNT
        for day, row in buckets.items():
            if 0 <= as_of_day - day < width + extra:
                total = [a + b for a, b in zip(total, row, strict=True)]
        sums.extend(total)
    return sums


offsets = st.lists(st.floats(min_value=0, max_value=250, allow_nan=False), min_size=1, max_size=25)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=offsets, later=st.integers(min_value=0, max_value=120), data=st.data())
def test_sums_match_a_recomputation(
    redis_url: str, days: list[float], later: int, data: st.DataObject
) -> None:
    customer = f"C{next(_serial)}"  # the database is shared by all examples of this test
    events: list[InputEvent] = []
    for n, day in enumerate(days):
        if data.draw(st.booleans()):
            events.append(login(n, day, customer=customer))
        else:
            events.append(
                tx(n, day, TransactionKind.CARD_PAYMENT, "12.34", balance="100.00", customer=customer)
            )

    async def run() -> tuple[list[int], list[int]]:
        state = make_state(redis_url)
        try:
            stored = await state.profiles.apply([build_update(e, "SIGNALBANK") for e in events])
            latest_ms = max(int((e.occurred_at).timestamp() * 1000) for e in events)
            read = await state.profiles.read(customer, latest_ms + later * MS_PER_DAY)
            return list(stored[-1].sums), list(read.sums)
        finally:
            await state.aclose()

    after_apply, after_read = asyncio.run(run())
    latest_day = max(build_update(e, "SIGNALBANK").day for e in events)
    for got, as_of in ((after_apply, latest_day), (after_read, latest_day + later)):
        exact, wider = expected(events, as_of), expected(events, as_of, 6, RETENTION + 7)
        for w, width in enumerate(WINDOWS):
            window = slice(w * METRIC_COUNT, (w + 1) * METRIC_COUNT)
            if width <= DAILY_DAYS:
                assert got[window] == exact[window], width
            else:  # every increment here is positive: the week's extra days can only add
                assert all(
                    a <= b <= c for a, b, c in zip(exact[window], got[window], wider[window], strict=True)
                )
