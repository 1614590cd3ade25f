"""BG/NBD: the fit recovers known parameters from data drawn from the model, and p_alive behaves."""

from __future__ import annotations

import numpy as np
import pytest

from schemas.profile.bgnbd import BgNbdParams, expected_active_days, fit, p_alive

TRUE = BgNbdParams(r=0.8, alpha=10.0, a=0.9, b=3.0)


def draw(customers: int, days: float, seed: int) -> tuple[list[int], list[float], list[float]]:
    """Customers from the BG/NBD generative process, observed for ``days``."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(TRUE.r, 1 / TRUE.alpha, customers)
    dropouts = rng.beta(TRUE.a, TRUE.b, customers)
    xs: list[int] = []
    last: list[float] = []
    for rate, dropout in zip(rates, dropouts, strict=True):
        t, x, t_x = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1 / rate)
            if t > days:
                break
            x, t_x = x + 1, t
            if rng.random() < dropout:
                break
        xs.append(x)
        last.append(t_x)
    return xs, last, [days] * customers


def test_fit_recovers_the_parameters_that_generated_the_data() -> None:
    fitted = fit(*draw(6000, 180.0, seed=3))
    assert fitted.customers == 6000
    for name, tolerance in (("r", 0.15), ("alpha", 0.2), ("a", 0.25), ("b", 0.3)):
        truth, got = getattr(TRUE, name), getattr(fitted, name)
        assert abs(got - truth) / truth < tolerance, (name, got, truth)


def test_p_alive_falls_with_silence_and_depends_on_rhythm() -> None:
    assert p_alive(TRUE, 0, 0, 100) == 1.0
    recent, silent = p_alive(TRUE, 10, 178, 180), p_alive(TRUE, 10, 60, 180)
    assert 0.0 < silent < recent <= 1.0
    # 60 silent days mean little for a slow customer (2 visits) and a lot for a busy one (40)
    assert p_alive(TRUE, 2, 120, 180) > p_alive(TRUE, 40, 120, 180)


def test_expected_activity_grows_with_horizon_and_frequency() -> None:
    assert expected_active_days(TRUE, 30, 10, 178, 180) < expected_active_days(TRUE, 60, 10, 178, 180)
    assert expected_active_days(TRUE, 30, 2, 178, 180) < expected_active_days(TRUE, 30, 20, 178, 180)
    assert expected_active_days(TRUE, 30, 10, 20, 180) < 0.1


def test_fit_rejects_impossible_histories() -> None:
    with pytest.raises(ValueError, match="t_x <= T"):
        fit([1], [50.0], [10.0])
    with pytest.raises(ValueError, match="no customers"):
        fit([], [], [])
