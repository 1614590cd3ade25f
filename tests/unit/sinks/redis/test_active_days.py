"""Active days in Redis feed the BG/NBD fields: distinct days, in any order, passive postings ignored."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from schemas.inputs import InputEvent, TransactionKind
from schemas.profile.bgnbd import BgNbdParams, p_alive
from schemas.profile.delta import MS_PER_DAY
from schemas.profile.view import build_profile
from tests.support.profile_events import DAY0, apply, login, tx
from tests.support.redis_state import make_state

MODEL = BgNbdParams(r=0.8, alpha=10.0, a=0.9, b=3.0)


def test_active_days_count_distinct_customer_days_only(redis_url: str) -> None:
    events: list[InputEvent] = [
        tx(1, 0, TransactionKind.SALARY_CREDIT, "3000.00"),  # employer's posting: not activity
        login(1, 1),
        tx(2, 1.2, TransactionKind.CARD_PAYMENT, "20.00"),  # same day as the login
        login(2, 5),
        login(3, 5),  # duplicate day
        tx(3, 6, TransactionKind.FEE, "2.00"),  # bank's posting
        login(4, 3),  # late, between the first and the last active day: still a new day
    ]
    stored = asyncio.run(apply(make_state(redis_url), events))[-1]
    first_day = int(DAY0.timestamp() * 1000) // MS_PER_DAY + 1
    state = stored.state
    assert (state["act_first"], state["act_last"], stored.active_days) == (
        str(first_day),
        str(first_day + 4),
        3,
    )
    now_ms = int((DAY0 + timedelta(days=30)).timestamp() * 1000)
    profile = build_profile("C1", state, stored.sums, now_ms, MODEL, stored.active_days)
    assert profile["active_days"] == 3
    age = now_ms // MS_PER_DAY - first_day
    assert profile["p_alive"] == round(p_alive(MODEL, 2, 4, age), 6)


def test_active_days_do_not_depend_on_arrival_order(redis_url: str) -> None:
    # late arrivals, each within the retention of the latest day seen; day 130 trims days 1 to 11
    days = [3.0, 10.0, 1.0, 7.0, 10.5, 60.0, 130.0, 120.0]
    forward: list[InputEvent] = [login(i, d) for i, d in enumerate(sorted(days))]
    shuffled: list[InputEvent] = [login(i, d, customer="C2") for i, d in enumerate(days)]
    one = asyncio.run(apply(make_state(redis_url), forward))[-1]
    two = asyncio.run(apply(make_state(redis_url), shuffled))[-1]
    assert [one.active_days, two.active_days] == [8, 8]  # days 1 to 11 left the 90 days: still counted
    assert one.sums == two.sums
    profile = build_profile("C2", two.state, two.sums, int(two.state["last_ts"]), MODEL, two.active_days)
    assert profile["active_days"] == 8


def test_without_model_or_history_the_estimates_are_neutral(redis_url: str) -> None:
    stored = asyncio.run(apply(make_state(redis_url), [tx(1, 0, TransactionKind.SALARY_CREDIT, "10.00")]))[0]
    profile = build_profile("C1", stored.state, stored.sums, 0, MODEL)
    assert (profile["active_days"], profile["p_alive"], profile["expected_active_days_30d"]) == (0, 1.0, -1.0)
