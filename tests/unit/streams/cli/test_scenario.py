"""The scenario options ``dev`` and ``simulate`` share."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.cli.scenario import scenario_of


def test_start_is_a_utc_day() -> None:
    scenario = scenario_of(5, 20, 7, datetime(2026, 1, 2), 0.0)
    assert scenario.start == datetime(2026, 1, 2, tzinfo=UTC)
    assert (scenario.customers, scenario.days, scenario.seed) == (5, 20, 7)
    assert scenario_of(5, 20, 7, None, 0.0).start is None
