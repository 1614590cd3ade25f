"""Complaint deadlines: checks at the moments a rule on a complaint's age changes, pure (no Redis, no clock).

``profile.oldest_open_complaint_hours`` grows with time while no event arrives, so a rule such as
``>= 48`` (the complaint SLA) would otherwise only fire on the customer's next event or silence
check, up to a day late. When an event leaves a complaint open, the pipeline therefore adds one
*deadline check* to the silence schedule for each age at which a rule comparing that field can
change (read from the ruleset's conditions): a member ``<customer>@<due ms>`` beside the customer's
own silence check (customer ids never contain ``@``). The timer takes it like any due check, and the
check evaluates the customer as of its due time, under the id ``check:<due time>``, then drops it.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from rules.cel.expressions import references
from rules.load.ruleset import Ruleset

log = logging.getLogger(__name__)

#: The profile field whose thresholds become deadlines (schemas/profile/fields.py).
AGE_FIELD = "oldest_open_complaint_hours"
#: Separates the customer id from the due time in a deadline member of the schedule.
MARK = "@"
MS_PER_HOUR = 3_600_000
#: Most distinct ages kept from one ruleset: bounds the schedule members one complaint adds.
MAX_AGES = 16

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_OPERATOR = r"(>=|<=|==|!=|>|<)"
_AFTER = re.compile(rf"\s*{_OPERATOR}\s*{_NUMBER}")
_BEFORE = re.compile(rf"{_NUMBER}\s*{_OPERATOR}\s*profile\s*\.\s*$")
_FLIPPED = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


@dataclass(frozen=True, slots=True)
class ScheduledCheck:
    """A member of the silence schedule: a customer's silence check, or one of its deadline checks."""

    customer_id: str
    due_ms: int | None = None  # None: the customer's own silence check

    @property
    def member(self) -> str:
        return self.customer_id if self.due_ms is None else f"{self.customer_id}{MARK}{self.due_ms}"

    @classmethod
    def parse(cls, member: str) -> ScheduledCheck:
        customer_id, mark, due = member.partition(MARK)
        return cls(customer_id, int(due)) if mark and due.isdigit() else cls(member)


def _changes_at(operator: str, threshold: float) -> tuple[int, ...]:
    """Whole hours at which ``hours <operator> threshold`` can change its value (hours are whole)."""
    if operator in (">=", "<"):
        return (math.ceil(threshold),)
    if operator in (">", "<="):
        return (math.floor(threshold) + 1,)
    return (int(threshold), int(threshold) + 1) if threshold == int(threshold) else ()


@lru_cache(maxsize=16)
def _ages(conditions: tuple[tuple[str, str], ...]) -> tuple[int, ...]:
    found: set[int] = set()
    for rule_id, source in conditions:
        compared = 0
        for root, name, offset in references(source):
            if (root, name) != ("profile", AGE_FIELD):
                continue
            after = _AFTER.match(source, offset + len(name))
            before = _BEFORE.search(source, 0, offset)
            if after:
                found.update(_changes_at(after.group(1), float(after.group(2))))
                compared += 1
            elif before:
                found.update(_changes_at(_FLIPPED[before.group(2)], float(before.group(1))))
                compared += 1
        if not compared:
            log.warning(
                "rule=%s reads profile.%s but not as a comparison with a number: it fires on events "
                "and silence checks only, not at a deadline",
                rule_id,
                AGE_FIELD,
            )
    return tuple(sorted(age for age in found if age > 0))[:MAX_AGES]


def complaint_ages(ruleset: Ruleset) -> tuple[int, ...]:
    """Ages (whole hours) at which a condition of ``ruleset`` on a complaint's age can change.

    ``profile.oldest_open_complaint_hours >= 48`` gives 48, ``> 120`` gives 121; a comparison the
    parser does not recognise is logged once and gets no deadline (events and silence checks still
    evaluate it).
    """
    return _ages(
        tuple((c.rule_id, c.source) for c in ruleset.conditions if ("profile", AGE_FIELD) in c.reads)
    )


def open_complaints(state: Mapping[str, str]) -> list[int]:
    """When each open complaint was opened (ms), from the ``c:<reference>`` fields of a stored
    profile (written by schemas/profile/delta.py as ``<ts>|open:<opened ms>`` or ``resolved``)."""
    opened: list[int] = []
    for key, raw in state.items():
        if key.startswith("c:"):
            value = raw.split("|", 1)[1] if "|" in raw else raw
            if value.startswith("open:") and value[5:].isdigit():
                opened.append(int(value[5:]))
    return opened


def _deadlines(opened: Iterable[int], ages: tuple[int, ...]) -> Iterator[int]:
    """Every deadline of the open complaints: open time + age, per complaint and age."""
    for at in opened:
        for age in ages:
            yield at + age * MS_PER_HOUR


def deadline_checks(
    opened: Mapping[str, Iterable[int]], latest: Mapping[str, int], ages: Iterable[int], earliest_ms: int = 0
) -> dict[str, int]:
    """Schedule members (``<customer>@<deadline>`` -> when due, ms) of every deadline still ahead of
    each customer's latest activity.

    A deadline at or before the latest activity was seen by that event's own evaluation, or by a
    deadline evaluation in the same batch (``deadlines_between``). None is due before
    ``earliest_ms`` (the silence checks' grace after processing): in a backlog the complaint's
    resolution may still be on its way. The member keeps its deadline, so the check still evaluates
    the customer as of it.
    """
    hours = tuple(ages)
    due: dict[str, int] = {}
    for customer_id, times in opened.items():
        after = latest.get(customer_id, 0)
        for moment in _deadlines(times, hours):
            if moment > after:
                due[ScheduledCheck(customer_id, moment).member] = max(moment, earliest_ms)
    return due


def deadlines_between(opened: Iterable[int], after_ms: int, before_ms: int, ages: Iterable[int]) -> list[int]:
    """Deadlines strictly between two of a customer's events in one batch, oldest first.

    The first event's batch is the one that would schedule them, and it knows of the second event
    already, so no check is scheduled for them (``deadline_checks``): the pipeline evaluates the
    customer as of each of them, on the state the first event left, before the second event's
    evaluation. A replay's large batches then stamp SLA alerts on time, as the worker's timer does.
    """
    return sorted({m for m in _deadlines(opened, tuple(ages)) if after_ms < m < before_ms})


def deadline_as_of(due_ms: int, last_activity_ms: int, now_ms: int) -> int:
    """The time a deadline check evaluates the customer at: its due time, unless an event after it
    was applied already (then that event's time: a profile is never judged before its own events),
    never after ``now_ms``.

    In the worker this stamps the alert at its deadline, not at the timer's tick; in a replay, whose
    clock (the watermark) may be far past the deadline when the check runs, it stamps it on time too.
    """
    return min(now_ms, max(due_ms, last_activity_ms))


def deadline_check_id(due_ms: int) -> str:
    """``check:<due time>`` (UTC, to the second): a retried deadline check gets the same id, so its
    outputs keep their ids; two deadlines never share one, nor one with a daily ``check:<date>``."""
    return f"check:{datetime.fromtimestamp(due_ms / 1000, tz=UTC):%Y-%m-%dT%H:%M:%SZ}"
