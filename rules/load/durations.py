"""Durations as analysts write them: ``14d``, ``48h``, ``30m``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """Parse ``<number><d|h|m>``; raise ValueError with an example on anything else."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"bad duration {text!r}: write a whole number and a unit, e.g. 14d, 48h or 30m")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
