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

For the risk scorecard, the few customers who meet a fraudster (streams/sim/fraud.py) also have
``fraud``: per episode its kind, its start, the ids of its fraudulent events and the first
fraudulent high-value event (the first transfer out of a takeover, the first large payment of a
stolen card), the event a risk signal should come before. Customers whose life holds what a
risk rule may mistake for fraud have ``lookalikes``: a new phone (``new_phone``, the day it is first
used), a stay abroad (``trip_abroad``, its first and last day) and a large one-off payment
(``large_payment``, a car or house deposit); they are not fraud, so any risk signal on them counts
as a false one.

Read from the customers' plans and their own random streams, so no simulation is needed.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import NotRequired, TypedDict

from streams.sim.calendar import DAY_SECONDS
from streams.sim.fraud import Episode, plan_episode
from streams.sim.origin import Origins
from streams.sim.personas import Plan, plan_customers
from streams.sim.scenario import Scenario


class FraudTruth(TypedDict):
    """One fraud episode: what the risk rules are scored against."""

    kind: str
    """``account_takeover`` or ``card_fraud``."""
    start: datetime
    """The episode's first fraudulent event."""
    event_ids: list[str]
    """Every fraudulent event, in time order."""
    first_high_value: str
    """The first fraudulent high-value event: detected means a risk signal at or before it."""
    first_high_value_at: datetime
    end: datetime
    """The last fraudulent event."""


class LookAlike(TypedDict):
    """Something legitimate that a risk rule may take for fraud."""

    kind: str
    """``new_phone``, ``trip_abroad`` or ``large_payment``."""
    on: date
    until: date


class GroundTruth(TypedDict):
    """What really happened to one customer, for scoring churn rules."""

    persona: str
    signal_on: date | None
    """First day the behaviour departs from normal: drift, first complaint, lapsing, a rhythm slowing."""
    lost_on: date | None
    """Day the customer was effectively lost: final balance out, activity collapsed, last active day."""
    fraud: NotRequired[list[FraudTruth]]
    """The customer's fraud episodes (only customers who meet a fraudster have the key)."""
    lookalikes: NotRequired[list[LookAlike]]
    """Legitimate doings that look like fraud (only customers with one have the key)."""


def ground_truth(scenario: Scenario) -> dict[str, GroundTruth]:
    """Persona, and for customers lost during the scenario when (no simulation needed); fraud
    episodes and their look-alikes."""
    start = scenario.resolved_start()
    first = start.date()
    start_ts = int(start.timestamp())

    def day(offset: int | None) -> date | None:
        return None if offset is None else first + timedelta(days=offset)

    truth: dict[str, GroundTruth] = {}
    for plan in plan_customers(scenario):
        entry = GroundTruth(persona=plan.persona, signal_on=day(plan.signal_day), lost_on=day(plan.lost_day))
        episode = plan_episode(plan, scenario, start_ts)
        if episode is not None:
            entry["fraud"] = [fraud_truth(episode)]
        if scenario.origins:
            lookalikes = _lookalikes(plan, scenario, start_ts)
            if lookalikes:
                entry["lookalikes"] = lookalikes
        truth[plan.customer_id] = entry
    return truth


def fraud_truth(episode: Episode) -> FraudTruth:
    """What the scorecard needs to know of an episode."""
    at = {step.event_id: step.ts for step in episode.steps}
    return FraudTruth(
        kind=episode.kind,
        start=_utc(episode.start_ts),
        event_ids=[step.event_id for step in episode.steps],
        first_high_value=episode.high_value_id,
        first_high_value_at=_utc(at[episode.high_value_id]),
        end=_utc(episode.steps[-1].ts),
    )


def _lookalikes(plan: Plan, scenario: Scenario, start_ts: int) -> list[LookAlike]:
    """The customer's new phone, stays abroad and large one-off payment (as the simulator plays them)."""
    rng = random.Random(f"signalbank-sim:{scenario.seed}:{plan.index + 1}:origin")
    origins = Origins(rng, plan.index + 1, start_ts, scenario.days, plan.holiday)
    found: list[LookAlike] = []
    if origins.new_phone_day is not None:
        on = _utc(origins.new_phone_ts).date()
        found.append(LookAlike(kind="new_phone", on=on, until=on))
    for trip in origins.trips:
        if trip.leave < start_ts + scenario.days * DAY_SECONDS:
            away = LookAlike(kind="trip_abroad", on=_utc(trip.leave).date(), until=_utc(trip.back).date())
            found.append(away)
    if plan.big_day is not None:
        on = _utc(start_ts + plan.big_day * DAY_SECONDS).date()
        found.append(LookAlike(kind="large_payment", on=on, until=on))
    return sorted(found, key=lambda item: item["on"])


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
