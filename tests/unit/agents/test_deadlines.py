"""Complaint deadlines: which ages the rules compare against, and the checks an open complaint adds."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from agents.deadlines import (
    MS_PER_HOUR,
    ScheduledCheck,
    complaint_ages,
    deadline_as_of,
    deadline_check_id,
    deadline_checks,
    deadlines_between,
    open_complaints,
)
from agents.silence import check_id
from rules.load.ruleset import Ruleset, load_sources

OPENED = int(datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp() * 1000)


def service_rules(*conditions: str) -> Ruleset:
    rules = "".join(
        f"""
  - id: service.r{n}
    kind: service
    description: rule {n}
    when: {condition!r}
    action: act
    message: m
"""
        for n, condition in enumerate(conditions)
    )
    return load_sources([("service.yaml", "rules:" + rules)])


def test_the_shipped_rules_give_the_warning_the_sla_and_the_churn_rule_deadline(ruleset: Ruleset) -> None:
    # service.complaint_sla_warning >= 36, service.complaint_sla_breached >= 48, churn > 120
    assert complaint_ages(ruleset) == (36, 48, 121)


@pytest.mark.parametrize(
    ("condition", "ages"),
    [
        ("profile.oldest_open_complaint_hours >= 48", (48,)),
        ("profile.oldest_open_complaint_hours > 48", (49,)),
        ("profile.oldest_open_complaint_hours >= 47.5", (48,)),  # whole hours: 48 is the first that holds
        ("profile.oldest_open_complaint_hours < 2", (2,)),
        ("profile.oldest_open_complaint_hours <= 2", (3,)),
        ("profile.oldest_open_complaint_hours == 5", (5, 6)),
        ("24 <= profile.oldest_open_complaint_hours", (24,)),
        ("24 < profile . oldest_open_complaint_hours", (25,)),
        ("profile.complaints_open > 0 && profile.oldest_open_complaint_hours>=6", (6,)),
        ("profile.oldest_open_complaint_hours >= 0", ()),  # from the start: the event itself sees it
        ("profile.complaints_open > 3", ()),
    ],
)
def test_each_comparison_with_a_number_gives_the_age_where_it_can_change(
    condition: str, ages: tuple[int, ...]
) -> None:
    assert complaint_ages(service_rules(condition)) == ages


def test_ages_of_several_rules_are_merged_and_sorted() -> None:
    rules = service_rules(
        "profile.oldest_open_complaint_hours >= 8", "profile.oldest_open_complaint_hours >= 2 && true"
    )
    assert complaint_ages(rules) == (2, 8)


def test_a_comparison_that_is_not_with_a_number_is_logged_and_gets_no_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="agents.deadlines"):
        ages = complaint_ages(service_rules("profile.oldest_open_complaint_hours * 2 > profile.tenure_days"))
    assert ages == ()
    assert "rule=service.r0" in caplog.text


def test_open_complaints_are_read_from_the_profile_state() -> None:
    state = {
        "c:CMP-1": f"{OPENED}|open:{OPENED}",
        "c:CMP-2": f"{OPENED + 5}|resolved",
        "c:CMP-3": f"open:{OPENED + 7}",
        "m:segment": "1|retail",
        "last_ts": str(OPENED),
    }
    assert sorted(open_complaints(state)) == [OPENED, OPENED + 7]


def test_deadlines_ahead_of_the_latest_activity_become_schedule_members() -> None:
    later = OPENED + 40 * MS_PER_HOUR  # an event 40 hours after the complaint: its 36 h point is past
    due = deadline_checks({"C1": [OPENED], "C2": []}, {"C1": later, "C2": later}, (36, 48))
    assert due == {f"C1@{OPENED + 48 * MS_PER_HOUR}": OPENED + 48 * MS_PER_HOUR}
    fresh = deadline_checks({"C1": [OPENED]}, {"C1": OPENED}, (36, 48))
    assert sorted(fresh.values()) == [OPENED + 36 * MS_PER_HOUR, OPENED + 48 * MS_PER_HOUR]


def test_deadlines_between_two_events_are_those_strictly_inside_oldest_first() -> None:
    second = OPENED + 7
    ages = (48, 36, 121)
    later = OPENED + 72 * MS_PER_HOUR
    assert deadlines_between([second, OPENED], OPENED, later, ages) == [
        OPENED + 36 * MS_PER_HOUR,
        second + 36 * MS_PER_HOUR,
        OPENED + 48 * MS_PER_HOUR,
        second + 48 * MS_PER_HOUR,
    ]
    # a deadline at the later event is that event's own to judge; one at the earlier was judged
    assert deadlines_between([OPENED], OPENED + 36 * MS_PER_HOUR, OPENED + 48 * MS_PER_HOUR, ages) == []
    assert deadlines_between([], OPENED, later, ages) == []


def test_a_member_names_its_customer_and_due_time() -> None:
    deadline = ScheduledCheck("C.1:x-y", OPENED)
    assert ScheduledCheck.parse(deadline.member) == deadline
    assert ScheduledCheck.parse("C.1:x-y") == ScheduledCheck("C.1:x-y")  # the customer's silence check
    assert ScheduledCheck("C.1:x-y").member == "C.1:x-y"


def test_a_deadline_check_evaluates_as_of_its_deadline_unless_an_event_came_after() -> None:
    due = OPENED + 48 * MS_PER_HOUR
    assert deadline_as_of(due, OPENED, due + 4_000) == due  # the timer's tick came 4 s later
    assert deadline_as_of(due, OPENED, due + 3 * 86_400_000) == due  # a replay's watermark, days later
    assert deadline_as_of(due, due + 60_000, due + 120_000) == due + 60_000  # never before its events
    assert deadline_as_of(due, due + 60_000, due + 30_000) == due + 30_000  # never after now


def test_deadline_check_ids_are_per_deadline_and_never_a_daily_checks() -> None:
    due = OPENED + 48 * MS_PER_HOUR
    assert deadline_check_id(due) == "check:2026-03-04T09:30:00Z"
    assert deadline_check_id(due) != deadline_check_id(due + 1000)
    assert deadline_check_id(due) != check_id(OPENED, due, timedelta(days=1))


def test_a_deadline_already_past_when_processed_waits_out_the_grace_but_keeps_its_deadline() -> None:
    processed = OPENED + 50 * MS_PER_HOUR  # a backlog: the complaint is read two days late
    due = deadline_checks({"C1": [OPENED]}, {"C1": OPENED}, (48,), earliest_ms=processed + MS_PER_HOUR)
    deadline = OPENED + 48 * MS_PER_HOUR
    assert due == {ScheduledCheck("C1", deadline).member: processed + MS_PER_HOUR}
