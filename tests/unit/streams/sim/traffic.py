"""The scenario most simulator tests share, and helpers to pick from its parsed events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.inputs import Customer, Interaction, Transaction
from streams.sim.scenario import Scenario
from streams.sim.truth import GroundTruth

START = datetime(2025, 1, 1, tzinfo=UTC)
SCENARIO = Scenario(customers=200, days=120, seed=7, start=START)
END = START + timedelta(days=SCENARIO.days)


def transactions_in(models: list[Transaction | Interaction | Customer]) -> list[Transaction]:
    return [m for m in models if isinstance(m, Transaction)]


def interactions_in(models: list[Transaction | Interaction | Customer]) -> list[Interaction]:
    return [m for m in models if isinstance(m, Interaction)]


def customers_of(truth: dict[str, GroundTruth], persona: str) -> list[str]:
    return [cid for cid, facts in truth.items() if facts["persona"] == persona]


def of_kind(models: list[Any], kind: str) -> list[Any]:
    return [m for m in models if getattr(m, "kind", None) == kind]
