"""Turns a scenario into its event stream: every customer's events in global event-time order.

Seeded and deterministic, for demos, load tests and rule backtests. Everything is driven by
``random.Random`` instances derived from the scenario seed, so the same scenario always yields
the same bytes. Each customer has their own random streams (plan, events, broken messages), so a
customer's traffic does not change when the population grows, and the valid traffic does not
change with ``invalid_ratio``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

from streams.sim.calendar import DAY_SECONDS, calendar_of
from streams.sim.customer import CustomerSim, Item
from streams.sim.event import SimEvent
from streams.sim.personas import plan_customers
from streams.sim.scenario import Scenario


def generate(scenario: Scenario) -> Iterator[SimEvent]:
    """All customers' events in non-decreasing event time (ties: customer, then sequence).

    Customers are played day by day and each day's events are sorted together, which is
    much cheaper than a heap merge over thousands of per-customer streams. Events later than
    the wall clock at the time of the call are never produced: a scenario reaching into the
    future is cut at "now".
    """
    start = scenario.resolved_start()
    start_ts = int(start.timestamp())
    now_ts = int(datetime.now(UTC).timestamp())
    if start_ts > now_ts:
        return
    cal = calendar_of(start.date(), scenario.days)
    sims = [CustomerSim(plan, scenario, start, cal) for plan in plan_customers(scenario)]
    share = scenario.active_share
    played = [random.Random(f"signalbank-sim:{scenario.seed}:{sim.number}:days").random for sim in sims]
    for sim in sims:
        if sim.plan.join_day is None:
            yield sim.master_item()[3]
    for day in range(scenario.days):
        if start_ts + day * DAY_SECONDS > now_ts:
            return
        items: list[Item] = []
        for sim, draw in zip(sims, played, strict=True):
            if share < 1.0 and draw() >= share and day != sim.plan.join_day:
                continue  # a sparse history: this customer does nothing today
            items += sim.day_items(day)
        items.sort()
        for ts, _index, _order, event in items:
            if ts > now_ts:
                return
            yield event
