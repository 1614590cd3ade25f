"""The retention list from a real Redis: every stored customer judged as of a day, likeliest first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from agents.retention import retention_list
from rules.load.ruleset import load_sources
from schemas.inputs import InputEvent
from schemas.outputs import ChurnLevel
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.churn_probability import ChurnProbability
from schemas.profile.delta import build_update
from tests.support.profile_events import DAY0, login
from tests.support.redis_state import make_state

RULES = """\
rules:
  - id: churn.never
    kind: churn
    description: Never holds
    when: "false"
    weight: 0.5
    reason: never
"""
#: Quiet days raise the probability (one log-odds per e-fold of days since the last active day).
MODEL = BgNbdParams(
    r=1.0,
    alpha=5.0,
    a=1.0,
    b=5.0,
    probability=ChurnProbability(
        intercept=-4.0, features={"log_days_since_active_day": 1.0}, min_history_days=30
    ),
)


def _history(customer: str, last_day: int, first_day: int = 0) -> list[InputEvent]:
    """Logins every 2 days from ``first_day`` to ``last_day``."""
    return [login(n, day, customer) for n, day in enumerate(range(first_day, last_day + 1, 2))]


def test_customers_are_listed_by_probability_as_of_the_day_and_cut_at_the_level(redis_url: str) -> None:
    events = [*_history("ACTIVE", 120), *_history("QUIET", 60), *_history("GONE", 40)]
    events += _history("NEW", 100, 100)
    as_of = DAY0 + timedelta(days=120, hours=12)

    async def listed(level: ChurnLevel) -> list[tuple[str, ChurnLevel | None]]:
        state = make_state(redis_url)
        try:
            await state.profiles.apply([build_update(e, "SIGNALBANK") for e in events])
            rows = await retention_list(
                state.profiles, load_sources([("r.yaml", RULES)]), MODEL, int(as_of.timestamp() * 1000), level
            )
            return [(row.customer_id, row.level) for row in rows]
        finally:
            await state.aclose()

    # 80 quiet days: z = -4 + ln(81) = 0.39, p = 0.60 (high); 60: p = 0.50 (elevated); 0: p = 0.02;
    # NEW: 20 quiet days, p = 0.28, but its first active day is only 20 days back: no level yet
    assert [c for c, _ in asyncio.run(listed(ChurnLevel.WATCH))] == ["GONE", "QUIET"]
    assert asyncio.run(listed(ChurnLevel.ELEVATED)) == [
        ("GONE", ChurnLevel.HIGH),
        ("QUIET", ChurnLevel.ELEVATED),
    ]
    assert asyncio.run(listed(ChurnLevel.HIGH)) == [("GONE", ChurnLevel.HIGH)]
