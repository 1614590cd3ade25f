"""A customer's own rhythm: irregular gaps between active days, how they stretch out, and pauses.

Slow-rhythm customers act on a few days only; the gaps between those days are gamma distributed
around the customer's own mean, with a shape drawn per customer (some are regular, some erratic),
and clipped around that mean so a monthly customer stays monthly. All draws come from the
customer's plan RNG, so the days are fixed before any event exists and the ground truth can read
them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

MONTHLY_GAP: Final = (14.0, 42.0)
"""Range of the mean gap (days) of monthly customers: every two to six weeks."""
QUARTERLY_GAP: Final = (60.0, 120.0)
"""Range of the mean gap (days) of quarterly customers: every two to four months."""
GAP_CLIP: Final = (0.4, 2.0)
"""A single gap stays within these multiples of the customer's own mean gap."""


@dataclass(frozen=True, slots=True)
class Rhythm:
    """One customer's gaps between active days: their own mean and irregularity."""

    mean: float
    shape: float
    """Gamma shape: 2 is erratic (coefficient of variation 0.7), 6 fairly regular (0.4)."""

    def gap(self, rng: random.Random) -> int:
        """Days to the next active day."""
        lo, hi = GAP_CLIP
        drawn = rng.gammavariate(self.shape, self.mean / self.shape)
        return max(1, round(min(hi * self.mean, max(lo * self.mean, drawn))))


def draw_rhythm(rng: random.Random, quarterly: bool) -> Rhythm:
    """A monthly or quarterly customer's own rhythm."""
    lo, hi = QUARTERLY_GAP if quarterly else MONTHLY_GAP
    return Rhythm(rng.uniform(lo, hi), rng.uniform(2.0, 6.0))


def active_days(rng: random.Random, rhythm: Rhythm, days: int) -> list[int]:
    """The customer's active days in the scenario; the first falls at a random phase of a gap."""
    day = -rng.randrange(rhythm.gap(rng))
    out: list[int] = []
    while True:
        day += rhythm.gap(rng)
        if day >= days:
            return out
        if day >= 0:
            out.append(day)


def stretch_out(
    rng: random.Random, rhythm: Rhythm, normal: list[int], days: int
) -> tuple[int, int, tuple[int, ...]] | None:
    """A lost customer's days: normal ones, then one to three ever longer gaps, then nothing.

    Returns ``(signal, lost, days)``: ``signal`` is the day after the last gap of the normal
    pattern (the stretching starts), ``lost`` the last active day. The whole story lies inside
    the scenario after at least two normal gaps; None when the scenario is too short for it.
    """
    wanted = rng.randint(1, 3)
    factors = [rng.uniform(1.6, 2.2) * (1.0 + 0.6 * i) for i in range(wanted)]
    gaps = [max(2, round(rhythm.mean * f)) for f in factors]
    while gaps:
        span = sum(gaps)
        cuts = [i for i in range(2, len(normal)) if normal[i] + span < days]
        if cuts:
            cut = rng.choice(cuts)
            kept = normal[: cut + 1]
            for gap in gaps:
                kept.append(kept[-1] + gap)
            return normal[cut] + 1, kept[-1], tuple(kept)
        gaps.pop()
    return None


def pause_window(
    rng: random.Random, days: int, shortest: int = 30, longest: int = 120, margin: int = 14
) -> tuple[int, int] | None:
    """``[begin, end)`` of a complete quiet with at least ``margin`` normal days on both sides.

    None when the scenario is too short for a pause of ``shortest`` days.
    """
    room = days - 2 * margin
    if room < shortest:
        return None
    length = rng.randint(shortest, min(longest, room))
    begin = rng.randint(margin, days - margin - length)
    return begin, begin + length
