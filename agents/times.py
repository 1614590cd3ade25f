"""Times as Redis and the claims hold them: epoch milliseconds and durations in milliseconds."""

from __future__ import annotations

from datetime import datetime, timedelta


def millis(duration: timedelta) -> int:
    """A duration in whole milliseconds."""
    return int(duration.total_seconds() * 1000)


def epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(moment.timestamp() * 1000)
