"""What really happened to each simulated customer: the answers churn rules are scored against.

Per customer: the persona; for customers lost during the scenario, ``signal_on`` (first day
their behaviour departs from their normal: drift start, first complaint, first day of lapsing,
the first gap of an occasional customer's rhythm that stretches out, the start of a daily
customer's fade) and ``lost_on``, the day the relationship effectively ended: the final transfer
of the balance to another bank, or, for those who leave their money lying, the day their
everyday activity collapsed; for occasional and card-daily customers their last active day
(nothing of theirs follows it). ``signal_on <= lost_on`` and both lie inside the scenario. Bank
postings (fees, interest) and, for the bank personas, a late salary or stray login may still
follow ``lost_on``. Everybody else, including the noisy loyal customers, resolved complainers,
new customers who never switch their salary, customers dormant from the start, occasional
customers with a month or more of silence in their normal rhythm and customers who pause for
one to four months and come back, has both null.

Read from the customers' plans, so no simulation is needed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TypedDict

from streams.sim.personas import plan_customers
from streams.sim.scenario import Scenario


class GroundTruth(TypedDict):
    """What really happened to one customer, for scoring churn rules."""

    persona: str
    signal_on: date | None
    """First day the behaviour departs from normal: drift, first complaint, lapsing, a rhythm slowing."""
    lost_on: date | None
    """Day the customer was effectively lost: final balance out, activity collapsed, last active day."""


def ground_truth(scenario: Scenario) -> dict[str, GroundTruth]:
    """Persona, and for customers lost during the scenario when (no simulation needed)."""
    start = scenario.resolved_start().date()

    def day(offset: int | None) -> date | None:
        return None if offset is None else start + timedelta(days=offset)

    return {
        plan.customer_id: GroundTruth(
            persona=plan.persona, signal_on=day(plan.signal_day), lost_on=day(plan.lost_day)
        )
        for plan in plan_customers(scenario)
    }
