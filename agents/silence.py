"""When a customer is next checked for silence: the schedule's policy, pure (no Redis, no clock).

A customer who stops transacting sends no events, so nothing would evaluate them again. Each batch
schedules the customers it touched one check period after their latest activity; each check
reschedules them one period later, until they have been quiet past the cap. Times are epoch ms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agents.outputs import OutputRecord
from agents.times import millis


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outputs of silence checks, and each customer's next check (None: leaves the schedule)."""

    outputs: list[OutputRecord]
    next_checks: dict[str, int | None]


def first_checks(
    latest: Mapping[str, int], now_ms: int, check_after: timedelta, grace: timedelta, quiet_cap: timedelta
) -> dict[str, int]:
    """Each customer's check one period after its latest activity, after a batch processed at ``now_ms``.

    Never sooner than ``grace`` after processing: a customer whose events arrive late, from a
    backlog, is not judged silent before the rest of the backlog is in. Customers quiet past the
    cap are left out.
    """
    earliest = now_ms + millis(grace)
    every, cap = millis(check_after), millis(quiet_cap)
    due = {c: max(last + every, earliest) for c, last in latest.items()}
    return {c: at for c, at in due.items() if at - latest[c] <= cap}


def following_check(last_ms: int, now_ms: int, check_after: timedelta, quiet_cap: timedelta) -> int | None:
    """After a check at ``now_ms``: the next whole check period since the latest activity, or None
    (quiet past the cap: no more checks until the customer's next event)."""
    every = millis(check_after)
    following = last_ms + (max(0, (now_ms - last_ms) // every) + 1) * every
    return None if following - last_ms > millis(quiet_cap) else following


def check_id(last_activity_ms: int, now_ms: int, check_after: timedelta) -> str:
    """Id of the check made at ``now_ms``: ``check:<date>`` of the last whole check period since
    the latest activity. A check retried within its period (after a crash, or by another worker)
    gets the same id, so its outputs get the same ids and the cooldown claims re-grant them.
    """
    every = millis(check_after)
    anchor = last_activity_ms + max(0, (now_ms - last_activity_ms) // every) * every
    return f"check:{datetime.fromtimestamp(anchor / 1000, tz=UTC):%Y-%m-%d}"
