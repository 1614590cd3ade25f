"""Card spend categories: valid merchant codes, and the cumulative mixes (regular or young, weekday or
weekend, December or summer, on holiday) drawn from by bisect as the simulated customers draw."""

from __future__ import annotations

import bisect
import itertools
import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.common import Channel
from schemas.inputs import Transaction, TransactionKind
from streams.sim.merchants import MCC_AWAY, MCC_TABLES, MCCS, SUBSCRIPTION_MCCS

CODES = [m[0] for m in MCCS]
REGULAR, YOUNG = 0, 1
NORMAL, DECEMBER, SUMMER = 0, 1, 2


def table(profile: int, weekend: bool, season: int) -> Sequence[float]:
    return MCC_TABLES[profile][int(weekend) * 3 + season]


def share(cumulative: Sequence[float], mcc: str) -> float:
    """The chance of drawing ``mcc`` from a cumulative table."""
    i = CODES.index(mcc)
    return (cumulative[i] - (cumulative[i - 1] if i else 0.0)) / cumulative[-1]


def drawn(cumulative: Sequence[float], n: int, seed: int) -> Counter[str]:
    """Categories drawn as streams/sim/customer.py draws them."""
    rng = random.Random(seed)
    total = cumulative[-1]
    return Counter(CODES[bisect.bisect_right(cumulative, rng.random() * total)] for _ in range(n))


def card_payment(mcc: str) -> Transaction:
    return Transaction(
        event_id=f"card-{mcc}",
        customer_id="C1",
        occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        account_id="A1",
        kind=TransactionKind.CARD_PAYMENT,
        amount=Decimal("9.99"),
        currency="EUR",
        channel=Channel.POS,
        merchant_category=mcc,
    )


def test_every_category_is_a_valid_merchant_code_once() -> None:
    codes = CODES + [mcc for mcc, _ in SUBSCRIPTION_MCCS]
    assert len(set(codes)) == len(codes)
    assert [card_payment(mcc).merchant_category for mcc in codes] == codes


@pytest.mark.parametrize("profile", [REGULAR, YOUNG])
@pytest.mark.parametrize("weekend", [False, True])
@pytest.mark.parametrize("season", [NORMAL, DECEMBER, SUMMER])
def test_each_mix_is_cumulative_over_every_category(profile: int, weekend: bool, season: int) -> None:
    cumulative = table(profile, weekend, season)
    assert len(cumulative) == len(MCCS)
    assert all(b >= a for a, b in itertools.pairwise(cumulative))
    assert cumulative[0] >= 0 and cumulative[-1] > 0


def test_december_buys_toys_summer_books_hotels_weekends_go_to_bars() -> None:
    for profile in (REGULAR, YOUNG):
        for weekend in (False, True):
            normal = table(profile, weekend, NORMAL)
            assert share(table(profile, weekend, DECEMBER), "5945") > share(normal, "5945")
            assert share(normal, "7011") == 0 < share(table(profile, weekend, SUMMER), "7011")
        assert share(table(profile, True, NORMAL), "5813") > share(table(profile, False, NORMAL), "5813")
    assert share(table(YOUNG, False, NORMAL), "5814") > share(table(REGULAR, False, NORMAL), "5814")


def test_on_holiday_only_travel_categories_are_drawn() -> None:
    travel = {m[0] for m in MCCS if m[4][5] > 0}
    counts = drawn(MCC_AWAY, 20_000, seed=1)
    assert set(counts) == travel
    for mcc in travel:
        assert abs(counts[mcc] / 20_000 - share(MCC_AWAY, mcc)) < 0.015


def test_a_bisect_draw_follows_the_mix_and_never_picks_an_unweighted_category() -> None:
    cumulative = table(REGULAR, False, NORMAL)
    counts = drawn(cumulative, 20_000, seed=2)
    for mcc in CODES:
        expected = share(cumulative, mcc)
        assert abs(counts[mcc] / 20_000 - expected) < 0.015, mcc
        if expected == 0:
            assert counts[mcc] == 0
