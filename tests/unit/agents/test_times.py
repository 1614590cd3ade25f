"""Times as Redis holds them: whole milliseconds of durations and of aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from agents.times import epoch_ms, millis


def test_durations_in_whole_milliseconds() -> None:
    assert millis(timedelta(days=1)) == 86_400_000
    assert millis(timedelta(seconds=1.5)) == 1_500


def test_an_instant_is_the_same_in_every_time_zone() -> None:
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert epoch_ms(moment) == 1_772_355_600_000
    assert epoch_ms(moment.astimezone(timezone(timedelta(hours=2)))) == epoch_ms(moment)
