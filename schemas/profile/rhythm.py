"""Each customer's own rhythm: how long they usually go between active days, and how far off it they are now.

A fixed day count ("no activity for 60 days") is wrong for most customers: 30 quiet days are normal
for someone who pays by card once a month and alarming for someone who logs in daily. So the
profile keeps, per customer and O(1) per event, the distribution of their gaps between active days
(days with customer activity: not salary, fees or interest) and compares the present with it.

The gaps are counted in a small histogram with quarter-octave buckets (each bucket's upper bound
is 2**(1/4), about 19%, above its lower bound; gaps of 1 to 4 days each have a bucket of their
own), stored as one profile field (``GAPS_FIELD``, "bucket:count,..."). An active day that arrives
late, between two days already known, splits their gap in two, so the histogram does not depend on
the order events arrive in, as long as the neighbouring active days are within the activity bitmap
(the last ``retention_days``); a late day whose earlier neighbour is older than that is left out.

Pure functions: the profile state (sinks/redis/profile_state.py) updates the histogram, the profile
view (schemas/profile/view.py) reads it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from schemas.profile.fields import NEVER_DAYS
from schemas.profile.shape import WINDOWS

#: Active days per window: "active_days_30d", ...
_ACTIVE_NAMES = tuple((days, f"active_days_{days}d") for days in WINDOWS)
#: The profile state field holding the gap histogram.
GAPS_FIELD = "gaps"
#: Buckets per doubling of the gap.
_PER_OCTAVE = 4
#: Gaps are capped here (about 3 years) so the bucket count stays small.
_LONGEST_GAP = 1100


def bucket_of(gap: int) -> int:
    """Histogram bucket of a gap of ``gap`` days (>= 1)."""
    return int(math.log2(min(max(gap, 1), _LONGEST_GAP)) * _PER_OCTAVE + 1e-9)


@lru_cache(maxsize=64)
def _bucket_days(bucket: int) -> float:
    """A bucket's typical gap: the geometric middle of its bounds, whole days for the short ones."""
    low, high = 2 ** (bucket / _PER_OCTAVE), 2 ** ((bucket + 1) / _PER_OCTAVE)
    whole = range(math.ceil(low - 1e-9), math.ceil(high - 1e-9))  # the gaps (whole days) it holds
    return float(whole[0]) if len(whole) == 1 else math.sqrt(low * high)


def parse(raw: str) -> dict[int, int]:
    """The histogram of a stored field ("" or absent: empty)."""
    if not raw:
        return {}
    counts: dict[int, int] = {}
    for part in raw.split(","):
        bucket, _, count = part.partition(":")
        counts[int(bucket)] = int(count)
    return counts


def _format(counts: Mapping[int, int]) -> str:
    return ",".join(f"{b}:{c}" for b, c in sorted(counts.items()) if c > 0)


def add_active_day(
    fields: dict[str, str], active: int, age: int, previous_last: int | None, day: int, known_days: int
) -> None:
    """Count the gaps a new active day ``day`` makes; call before setting its bit in ``active``.

    ``active``: the activity bitmap (bit k = day ``ref_day - k``), ``age``: ``ref_day - day``,
    ``previous_last``: the latest active day before this update (None: none yet), ``known_days``:
    the active days counted before it (more than the bitmap holds: some are older than it).
    """
    if previous_last is None:
        return
    counts = parse(fields.get(GAPS_FIELD, ""))
    if day > previous_last:  # the usual case: the newest active day
        _bump(counts, day - previous_last, 1)
    else:  # a late one: it splits the gap between its neighbours
        older = active >> (age + 1)
        newer = active & ((1 << age) - 1)
        after = newer.bit_length() - 1  # age of the next active day (-1: none)
        if older:
            before = age + 1 + ((older & -older).bit_length() - 1)  # age of the earlier active day
            if after >= 0:
                _bump(counts, before - after, -1)
                _bump(counts, age - after, 1)
            _bump(counts, before - age, 1)
        elif known_days > active.bit_count():
            return  # the earlier neighbour is beyond the bitmap: the gaps are unknown
        elif after >= 0:
            _bump(counts, age - after, 1)  # the new first active day
    fields[GAPS_FIELD] = _format(counts)


def _bump(counts: dict[int, int], gap: int, by: int) -> None:
    bucket = bucket_of(gap)
    counts[bucket] = counts.get(bucket, 0) + by


def quantile(counts: Mapping[int, int], q: float) -> float:
    """The ``q`` quantile (0-1) of the gaps in days, -1 with no gap counted."""
    total = sum(counts.values())
    if total <= 0:
        return -1.0
    rank = q * total
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return round(_bucket_days(bucket), 1)
    return round(_bucket_days(max(counts)), 1)


def _bits_within(active: int, shift: int, days: int) -> int:
    """Active days among the last ``days`` as of ``shift`` days after the bitmap's reference day."""
    keep = days - shift
    return (active & ((1 << keep) - 1)).bit_count() if keep > 0 else 0


def add_rhythm(profile: dict[str, Any], state: Mapping[str, str], active: int, now_day: int) -> None:
    """The rhythm fields of the profile as of epoch day ``now_day`` (see the field catalogue)."""
    ref = int(state.get("ref_day", now_day))
    shift = max(0, now_day - ref)
    for days, name in _ACTIVE_NAMES:
        profile[name] = _bits_within(active, shift, days)
    if "act_last" not in state:
        profile["days_since_active_day"] = NEVER_DAYS
        profile["days_since_first_active_day"] = -1
        profile["activity_gap_mean_days"] = -1.0
        profile["activity_gap_median_days"] = -1.0
        profile["activity_gap_p90_days"] = -1.0
        profile["activity_overdue_ratio"] = -1.0
        profile["activity_rate_ratio_30d"] = -1.0
        return
    first, last = int(state["act_first"]), int(state["act_last"])
    days = int(state.get("act_days", "1"))
    since = max(0, now_day - last)
    profile["days_since_active_day"] = since
    profile["days_since_first_active_day"] = max(0, now_day - first)
    counts = parse(state.get(GAPS_FIELD, ""))
    mean = (last - first) / (days - 1) if days > 1 and last > first else -1.0
    profile["activity_gap_mean_days"] = round(mean, 1)
    profile["activity_gap_median_days"] = quantile(counts, 0.5)
    p90 = quantile(counts, 0.9)
    profile["activity_gap_p90_days"] = p90
    profile["activity_overdue_ratio"] = round(since / p90, 2) if p90 > 0 else -1.0
    # active days in the last 30 against what their lifetime rate up to then predicts
    span = max(1, now_day - first + 1)
    expected = min(30, span) * days / span
    profile["activity_rate_ratio_30d"] = (
        round(profile["active_days_30d"] / expected, 2) if span > 30 else -1.0
    )
