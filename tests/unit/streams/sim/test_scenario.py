"""Scenario: nonsense is refused, and a pinned start stays put."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from streams.sim.scenario import Scenario


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": 0},
        {"customers": -1},
        {"invalid_ratio": 1.0},
        {"invalid_ratio": -0.1},
        {"start": datetime(2025, 1, 1)},
        {"start": datetime(1999, 1, 1, tzinfo=UTC)},
    ],
)
def test_nonsense_scenarios_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Scenario(**kwargs)


def test_a_pinned_scenario_keeps_its_start_whatever_the_date() -> None:
    scenario = Scenario(customers=3, days=5, seed=2)
    pinned = scenario.pinned()
    assert scenario.start is None and pinned.start == scenario.resolved_start()
    assert pinned.resolved_start() == pinned.start
