"""The simulator's random draws: reproducible from a seed, and in range with the promised shape
(lognormal amounts around their median, Poisson counts, times of day peaking mid-way)."""

from __future__ import annotations

import random
import statistics

import pytest

from streams.sim.draws import amount_cents, poisson, time_of_day


def draws(seed: int) -> list[int]:
    """A customer's worth of draws of each kind, in turn, from one generator."""
    rng = random.Random(seed)
    made: list[int] = []
    for _ in range(50):
        made += [amount_cents(rng, 40.0, 0.7), poisson(rng, 2.5), time_of_day(rng, 7.0, 21.0)]
    return made


def test_a_seed_gives_the_same_draws_and_another_seed_others() -> None:
    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_amounts_are_positive_cents_around_the_median() -> None:
    rng = random.Random(1)
    amounts = [amount_cents(rng, 38.0, 0.7) for _ in range(20_000)]
    assert min(amounts) >= 1
    assert abs(statistics.median(amounts) - 3800) / 3800 < 0.05
    assert amount_cents(rng, 12.34, 0.0) == 1234  # no spread: the median itself
    assert amount_cents(rng, 0.0001, 0.5) == 1  # never zero


def test_amounts_spread_with_sigma() -> None:
    rng = random.Random(2)
    narrow = [amount_cents(rng, 50.0, 0.2) for _ in range(5_000)]
    wide = [amount_cents(rng, 50.0, 1.0) for _ in range(5_000)]
    assert statistics.pstdev(wide) > 3 * statistics.pstdev(narrow)


@pytest.mark.parametrize("lam", [0.3, 2.5, 9.0])
def test_daily_counts_are_poisson(lam: float) -> None:
    rng = random.Random(3)
    counts = [poisson(rng, lam) for _ in range(20_000)]
    assert min(counts) >= 0
    assert abs(statistics.fmean(counts) - lam) / lam < 0.05
    assert abs(statistics.pvariance(counts) - lam) / lam < 0.1  # variance = mean


def test_no_rate_draws_nothing_and_uses_no_randomness() -> None:
    rng = random.Random(4)
    state = rng.getstate()
    assert poisson(rng, 0.0) == 0 and poisson(rng, -1.0) == 0
    assert rng.getstate() == state  # a customer's other draws stay as they were


def test_times_of_day_stay_between_the_hours_and_peak_mid_way() -> None:
    rng = random.Random(5)
    seconds = [time_of_day(rng, 6.0, 22.0) for _ in range(20_000)]
    assert min(seconds) >= 6 * 3600 and max(seconds) < 22 * 3600
    assert abs(statistics.fmean(seconds) - 14 * 3600) < 600
    middle = sum(12 * 3600 <= s < 16 * 3600 for s in seconds)
    edge = sum(s < 10 * 3600 for s in seconds)
    assert middle > 2.5 * edge  # triangular: 7/16 of the draws in the middle quarter, 1/8 in the first
