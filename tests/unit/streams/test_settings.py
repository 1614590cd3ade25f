"""The settings: read from SIGNALBANK_* variables, frozen, and refusing values the pipeline cannot honour."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from streams.settings import Settings


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNALBANK_CHECK_AFTER_S", "172800")
    monkeypatch.setenv("SIGNALBANK_RETENTION_DAYS", "120")
    settings = Settings()
    assert (settings.check_after_s, settings.retention_days) == (172_800.0, 120)


def test_settings_are_frozen() -> None:
    with pytest.raises(ValidationError):
        Settings().partitions = 8  # type: ignore[misc]


def test_retention_shorter_than_the_longest_window_is_refused() -> None:
    """A bucket trimmed before it leaves the 90-day window would stay in that window's sum."""
    assert Settings(retention_days=90).retention_days == 90
    with pytest.raises(ValidationError, match="greater than or equal to 90"):
        Settings(retention_days=30)
