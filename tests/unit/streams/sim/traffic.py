"""The scenario most simulator tests share, and helpers to pick from its parsed events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.catalog import INPUT_MODELS
from schemas.inputs import Customer, Interaction, Transaction
from schemas.profile.delta import is_customer_activity
from streams.sim.calendar import calendar_of
from streams.sim.customer import CustomerSim
from streams.sim.personas import Plan, plan_customers
from streams.sim.scenario import Scenario
from streams.sim.truth import GroundTruth

START = datetime(2025, 1, 1, tzinfo=UTC)
SCENARIO = Scenario(customers=256, days=120, seed=7, start=START)
"""256: about 200 customers of the bank personas (as before the rhythm personas) and 56 of those."""
END = START + timedelta(days=SCENARIO.days)
WIDE = replace(SCENARIO, customers=3000)
"""Where to find enough customers of a rare kind: only its plans are drawn, only the chosen played."""

Model = Transaction | Interaction | Customer


def play(scenario: Scenario, plans: list[Plan]) -> dict[str, list[Model]]:
    """These customers' events alone, validated, in stream order (nobody's depend on the others)."""
    start = scenario.resolved_start()
    cal = calendar_of(start.date(), scenario.days)
    played: dict[str, list[Model]] = {}
    for plan in plans:
        sim = CustomerSim(plan, scenario, start, cal)
        items = [sim.master_item()] if plan.join_day is None else []
        for day in range(scenario.days):
            items += sim.day_items(day)
        items.sort()
        models: list[Model] = []
        for *_key, event in items:
            model = INPUT_MODELS[event.topic].model_validate_json(event.value)
            assert isinstance(model, Model)
            models.append(model)
        played[plan.customer_id] = models
    return played


def plans_of(scenario: Scenario, persona: str, count: int = 40) -> list[Plan]:
    """The first ``count`` customers of ``persona`` in ``scenario``."""
    return [plan for plan in plan_customers(scenario) if plan.persona == persona][:count]


def active_days(models: list[Model]) -> list[int]:
    """Days (from START) with something the customer did, not the bank or employer."""
    return sorted({(m.occurred_at - START).days for m in models if is_customer_activity(m)})


def is_fraud(model: Model) -> bool:
    """A fraud episode's event (streams/sim/fraud.py): not the customer's doing, moves no balance."""
    return "-F" in model.event_id


def transactions_in(models: list[Transaction | Interaction | Customer]) -> list[Transaction]:
    """The customer's own bookings (a fraudster's move no running balance)."""
    return [m for m in models if isinstance(m, Transaction) and not is_fraud(m)]


def interactions_in(models: list[Transaction | Interaction | Customer]) -> list[Interaction]:
    return [m for m in models if isinstance(m, Interaction)]


def customers_of(truth: dict[str, GroundTruth], persona: str) -> list[str]:
    return [cid for cid, facts in truth.items() if facts["persona"] == persona]


def of_kind(models: list[Any], kind: str) -> list[Any]:
    return [m for m in models if getattr(m, "kind", None) == kind]
