"""The rhythm fields: a gap histogram per active day, order-independent, read as the customer's own norm."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.profile.delta import MS_PER_DAY, ProfileUpdate
from schemas.profile.fields import NEVER_DAYS
from schemas.profile.rhythm import GAPS_FIELD, bucket_of, parse, quantile
from schemas.profile.shape import METRIC_COUNT, Metric
from schemas.profile.view import build_profile
from sinks.redis.profile_state import ProfileState

BASE_DAY = 20_000


def _active(index: int, day: int) -> ProfileUpdate:
    increments = [0] * METRIC_COUNT
    increments[Metric.ACTIVE] = 1
    ops = (("mn", "act_first", str(day)), ("mx", "act_last", str(day)))
    return ProfileUpdate("C1", f"e{index}", day * MS_PER_DAY + 1_000, tuple(increments), ops)


def _state(days: list[int], order: list[int] | None = None) -> ProfileState:
    state = ProfileState()
    for index in order if order is not None else range(len(days)):
        state.apply(_active(index, days[index]), 90, 64, {})
    return state


def _profile(state: ProfileState, now_day: int) -> dict[str, object]:
    return build_profile(
        "C1", state.fields, state.flat_sums(), now_day * MS_PER_DAY, None, state.active_days, state.active
    )


def test_short_gaps_have_buckets_of_their_own_and_long_ones_share() -> None:
    assert len({bucket_of(g) for g in range(1, 8)}) == 7
    assert bucket_of(100) == bucket_of(105)  # [90.5, 107.6)
    assert bucket_of(100) != bucket_of(130)


def test_a_weekly_customer_is_overdue_after_three_quiet_weeks_and_a_monthly_one_is_not() -> None:
    weekly = _state([BASE_DAY + 7 * k for k in range(10)])
    monthly = _state([BASE_DAY - 240 + 30 * k for k in range(10)])
    now = BASE_DAY + 63 + 21
    weekly_view, monthly_view = _profile(weekly, now), _profile(monthly, BASE_DAY + 30 + 21)
    assert weekly_view["activity_gap_median_days"] == 7.0
    assert weekly_view["activity_overdue_ratio"] == 3.0
    assert monthly_view["activity_gap_median_days"] == 29.3  # 30 lies in the bucket [27, 32)
    assert 0 < float(monthly_view["activity_overdue_ratio"]) < 1  # type: ignore[arg-type]
    assert weekly_view["days_since_active_day"] == 21
    assert weekly_view["active_days_30d"] == 2  # days 56 and 63 of the 30 up to day 84
    assert weekly_view["active_days_90d"] == 10


def test_a_customer_without_activity_has_the_documented_neutral_values() -> None:
    view = _profile(ProfileState(), BASE_DAY)
    assert view["days_since_active_day"] == NEVER_DAYS
    assert view["activity_gap_p90_days"] == -1.0
    assert view["activity_rate_ratio_30d"] == -1.0


def test_activity_at_a_fifth_of_the_usual_rate_reads_as_about_a_fifth() -> None:
    days = [BASE_DAY + d for d in range(0, 60)] + [BASE_DAY + 60 + 5 * k for k in range(6)]
    view = _profile(_state(days), BASE_DAY + 89)
    assert 0.2 <= float(view["activity_rate_ratio_30d"]) <= 0.3  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 85), min_size=2, max_size=40, unique=True), st.randoms(use_true_random=False))
def test_the_gaps_do_not_depend_on_the_order_events_arrive_in(offsets: list[int], rng: random.Random) -> None:
    days = [BASE_DAY + o for o in sorted(offsets)]
    order = list(range(len(days)))
    rng.shuffle(order)
    in_order, shuffled = _state(days), _state(days, order)
    assert parse(shuffled.fields[GAPS_FIELD]) == parse(in_order.fields[GAPS_FIELD])
    assert sum(parse(in_order.fields[GAPS_FIELD]).values()) == len(days) - 1


def test_quantiles_of_an_empty_histogram_are_minus_one() -> None:
    assert quantile({}, 0.5) == -1.0
