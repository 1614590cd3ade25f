"""The shared traffic: one scenario generated, validated and parsed once for the package."""

from __future__ import annotations

from collections import defaultdict

import pytest

from schemas.catalog import INPUT_MODELS
from schemas.inputs import Customer, Interaction, Transaction
from streams.sim.event import SimEvent
from streams.sim.generator import generate
from streams.sim.personas import Plan, plan_customers
from streams.sim.truth import GroundTruth, ground_truth
from tests.unit.streams.sim.traffic import (
    SCENARIO,
)


@pytest.fixture(scope="package")
def events() -> list[SimEvent]:
    return list(generate(SCENARIO))


@pytest.fixture(scope="package")
def truth() -> dict[str, GroundTruth]:
    return ground_truth(SCENARIO)


@pytest.fixture(scope="package")
def plans() -> dict[str, Plan]:
    """The customers' stories, for what the truth file does not say (pauses, channels)."""
    return {plan.customer_id: plan for plan in plan_customers(SCENARIO)}


@pytest.fixture(scope="package")
def models(events: list[SimEvent]) -> list[Transaction | Interaction | Customer]:
    """Every event validated against its topic's model (once: the validation is the slow part)."""
    validated: list[Transaction | Interaction | Customer] = []
    for event in events:
        model = INPUT_MODELS[event.topic].model_validate_json(event.value)
        assert isinstance(model, Transaction | Interaction | Customer)
        validated.append(model)
    return validated


@pytest.fixture(scope="package")
def parsed(
    models: list[Transaction | Interaction | Customer],
) -> dict[str, list[Transaction | Interaction | Customer]]:
    """The validated events per customer, in stream order."""
    by_customer: dict[str, list[Transaction | Interaction | Customer]] = defaultdict(list)
    for model in models:
        by_customer[model.customer_id].append(model)
    return by_customer
