"""Durations as analysts write them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rules.load.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14d", timedelta(days=14)),
        ("48h", timedelta(hours=48)),
        ("30m", timedelta(minutes=30)),
        (" 2 d ", timedelta(days=2)),
    ],
)
def test_a_number_and_a_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["2 weeks", "1.5d", "d", "14", "-1d", "14s", ""])
def test_anything_else_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match=r"bad duration .*e\.g\. 14d, 48h or 30m"):
        parse_duration(text)
