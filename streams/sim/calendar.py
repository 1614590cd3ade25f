"""The bank calendar every simulated customer shares: business days and the seasons.

Paydays and standing orders are placed with the business-day functions (standing orders move
back off weekends). Card spending peaks on Fridays and Saturdays and in December (the week
before Christmas) and is quiet on the holidays; summer brings travel spend (``Calendar.table``).
The per-day values are computed once per scenario.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

DAY_SECONDS: Final = 86_400
"""Seconds in a scenario day (UTC: no daylight saving)."""

#: Card payment count by weekday (Mon..Sun): spending peaks on Fridays and Saturdays.
_DOW_CARD: Final = (0.92, 0.92, 0.95, 1.0, 1.18, 1.38, 1.0)
_DOW_LOGIN: Final = (1.05, 1.0, 1.0, 1.0, 1.0, 0.95, 1.0)
_MONTH_CARD: Final = (0.9, 0.92, 0.97, 1.0, 1.02, 1.03, 1.06, 1.06, 0.98, 1.0, 1.08, 1.22)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Per scenario day: what every customer shares (weekday, season, spending multiplier)."""

    dates: tuple[date, ...]
    prefix: tuple[str, ...]
    """``YYYY-MM-DDT``: the date part of ``occurred_at`` as pydantic serializes it."""
    table: tuple[int, ...]
    """Index of the card category table: weekend * 3 + season (0 normal, 1 December, 2 summer)."""
    card: tuple[float, ...]
    login: tuple[float, ...]


def _season_factor(day: date) -> float:
    """Card payment count by weekday and month, with the Christmas peak and holidays."""
    factor = _DOW_CARD[day.weekday()] * _MONTH_CARD[day.month - 1]
    if day.month == 12:
        if 14 <= day.day <= 23:
            factor *= 1.25
        elif day.day in (25, 26):
            factor *= 0.45
    elif day.month == 1 and day.day == 1:
        factor *= 0.4
    return factor


@functools.lru_cache(maxsize=8)
def calendar_of(start: date, days: int) -> Calendar:
    """The calendar of ``days`` days from ``start`` (cached: every customer of a scenario shares it)."""
    dates = tuple(start + timedelta(days=d) for d in range(days))
    return Calendar(
        dates=dates,
        prefix=tuple(f"{d.isoformat()}T" for d in dates),
        table=tuple(
            (d.weekday() >= 5) * 3 + (1 if d.month == 12 else 2 if d.month in (7, 8) else 0) for d in dates
        ),
        card=tuple(_season_factor(d) for d in dates),
        login=tuple(_DOW_LOGIN[d.weekday()] for d in dates),
    )


def month_end(year: int, month: int) -> date:
    """The month's last calendar day."""
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def last_business_day(year: int, month: int) -> date:
    """The month's last Monday-to-Friday (bank holidays are not modelled)."""
    day = month_end(year, month)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def first_business_day(year: int, month: int) -> date:
    """The month's first Monday-to-Friday."""
    day = date(year, month, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def standing_order_day(year: int, month: int, dom: int) -> date:
    """Day ``dom`` (1-28) of the month, moved back off weekends like a standing order."""
    day = date(year, month, dom)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day
