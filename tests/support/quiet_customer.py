"""A customer paid a salary twice a month for two months, then silent: the silence-check tests' story,
and pipelines whose processing clock is fixed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from agents.decode import RawRecord
from agents.metrics import Metrics
from agents.pipeline import Pipeline, PipelineConfig
from rules.load.ruleset import Ruleset
from sinks.redis.state import RedisState
from tests.support.story import BASE, encoded, txn

T = TypeVar("T")
DAY = timedelta(days=1)
DAY_MS = 86_400_000
#: Paid twice a month for two months, then nothing at all (the salary account moved away).
SALARY_DAYS = (0, 15, 30, 45, 60)
LAST = BASE + timedelta(days=SALARY_DAYS[-1], hours=1)  # story transactions happen at hour 1
LAST_MS = int(LAST.timestamp() * 1000)


def salary_records(customer: str = "QUIET") -> list[RawRecord]:
    messages = [
        txn(customer, f"sal{i}", day, "salary_credit", "2000.00", f"{3000 + 100 * i}.00")
        for i, day in enumerate(SALARY_DAYS)
    ]
    return [
        RawRecord(topic, 0, i, customer.encode(), encoded((topic, body)))
        for i, (topic, body) in enumerate(messages)
    ]


def make(
    state: RedisState,
    ruleset: Ruleset,
    now: datetime = LAST + timedelta(minutes=5),
    grace: timedelta = timedelta(0),
) -> Pipeline:
    """A pipeline whose processing clock is ``now`` (live traffic: just after the events)."""
    config = PipelineConfig("SIGNALBANK", timedelta(days=1), check_grace=grace)
    return Pipeline(state, lambda: ruleset, Metrics(), config, lambda: now)
