"""What customers spend on by card: merchant categories, their amounts and how the mix shifts.

The mix depends on the customer (regular or young), the weekend and the season (December gifts,
summer travel); ``MCC_TABLES`` holds the cumulative weights for each case, ready for a bisect.
"""

from __future__ import annotations

import itertools
from typing import Final

#: Card spend categories: (mcc, median EUR, log sigma, online share, weights) with weights for
#: (regular weekday, regular weekend, young weekday, young weekend, December extra, travel).
MCCS: Final = (
    ("5411", 38.0, 0.7, 0.02, (30, 26, 14, 12, 0, 18)),  # grocery
    ("5812", 24.0, 0.6, 0.05, (12, 24, 8, 14, 0, 30)),  # restaurants
    ("5814", 8.5, 0.5, 0.05, (12, 8, 26, 20, 0, 8)),  # fast food / coffee
    ("5813", 18.0, 0.6, 0.0, (2, 6, 6, 18, 0, 6)),  # bars
    ("5541", 55.0, 0.4, 0.0, (8, 6, 2, 2, 0, 6)),  # fuel
    ("4111", 3.8, 0.6, 0.3, (10, 4, 16, 8, 0, 8)),  # local transport
    ("5912", 14.0, 0.6, 0.1, (5, 3, 3, 2, 0, 3)),  # pharmacy
    ("5691", 48.0, 0.8, 0.5, (4, 9, 5, 8, 10, 2)),  # clothing
    ("5732", 90.0, 1.0, 0.7, (2, 4, 2, 3, 7, 0)),  # electronics
    ("5945", 30.0, 0.7, 0.5, (1, 2, 0, 0, 10, 0)),  # toys and games
    ("5999", 22.0, 0.9, 0.6, (6, 7, 6, 6, 7, 4)),  # misc retail
    ("5815", 6.0, 0.8, 1.0, (2, 2, 8, 8, 0, 0)),  # digital goods
    ("7832", 13.0, 0.3, 0.4, (1, 5, 3, 6, 0, 0)),  # cinema
    ("7011", 120.0, 0.6, 0.3, (0, 0, 0, 0, 0, 12)),  # hotels
    ("4511", 180.0, 0.6, 1.0, (0, 0, 0, 0, 0, 2)),  # airlines
)
_SUMMER_TRAVEL: Final = 0.15
"""Share of the travel mix in everyone's July/August card spend (holidays not planned per customer)."""


def _cumulative(column: int, season: int) -> tuple[float, ...]:
    """Cumulative category weights: a base column, plus December gifts or summer travel."""
    weights = []
    for *_head, w in MCCS:
        base = float(w[column])
        if season == 1:
            base += w[4] * (1.0 + column % 2)
        elif season == 2:
            base = base * (1 - _SUMMER_TRAVEL) + w[5] * _SUMMER_TRAVEL * 2
        weights.append(base)
    return tuple(itertools.accumulate(weights))


#: [profile (0 regular, 1 young)][weekend * 3 + season (0 normal, 1 December, 2 summer)]
MCC_TABLES: Final = tuple(
    tuple(_cumulative(profile * 2 + weekend, season) for weekend in (0, 1) for season in (0, 1, 2))
    for profile in (0, 1)
)
MCC_AWAY: Final = tuple(itertools.accumulate(float(m[4][5]) for m in MCCS))
"""Cumulative weights on holiday: the travel column only."""
SUBSCRIPTION_MCCS: Final = (("4899", 11.99), ("4814", 24.99), ("5968", 9.99), ("7997", 29.0))
"""Monthly card subscriptions: (mcc, price EUR)."""
