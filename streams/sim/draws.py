"""The random draws the simulated customers are made of: amounts, daily counts, times of day.

Amounts are lognormal and daily counts Poisson; each takes the ``random.Random`` of the
customer it is drawn for, which keeps every customer's traffic reproducible on its own.
"""

from __future__ import annotations

import math
import random


def amount_cents(rng: random.Random, median: float, sigma: float) -> int:
    """A positive amount in cents from a lognormal around ``median`` EUR."""
    return max(1, round(median * math.exp(sigma * rng.gauss()) * 100))


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method: fine for the small daily rates used here."""
    if lam <= 0.0:
        return 0
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def time_of_day(rng: random.Random, lo_h: float, hi_h: float) -> int:
    """Second of the day between the given hours, most likely mid-way (triangular; cheap)."""
    return int((lo_h + (hi_h - lo_h) * (rng.random() + rng.random()) * 0.5) * 3600)
