"""Rhythms: gaps around the customer's own mean, stretching out inside the scenario, pauses that fit."""

from __future__ import annotations

import itertools
import random
import statistics

from streams.sim.rhythms import (
    GAP_CLIP,
    MONTHLY_GAP,
    QUARTERLY_GAP,
    Rhythm,
    active_days,
    draw_rhythm,
    pause_window,
    stretch_out,
)


def test_gaps_stay_around_the_customers_own_mean() -> None:
    rng = random.Random(1)
    for quarterly in (False, True):
        lo, hi = QUARTERLY_GAP if quarterly else MONTHLY_GAP
        for _ in range(30):
            rhythm = draw_rhythm(rng, quarterly)
            assert lo <= rhythm.mean <= hi
            gaps = [rhythm.gap(rng) for _ in range(400)]
            assert all(
                round(GAP_CLIP[0] * rhythm.mean) <= g <= round(GAP_CLIP[1] * rhythm.mean) for g in gaps
            )
            assert abs(statistics.fmean(gaps) - rhythm.mean) < 0.12 * rhythm.mean
    erratic = [Rhythm(30.0, 2.0).gap(rng) for _ in range(2000)]
    regular = [Rhythm(30.0, 6.0).gap(rng) for _ in range(2000)]
    assert statistics.stdev(erratic) > 1.3 * statistics.stdev(regular)


def test_active_days_lie_in_the_scenario_with_their_gaps() -> None:
    rng = random.Random(2)
    rhythm = Rhythm(21.0, 4.0)
    firsts = []
    for _ in range(50):
        days = active_days(rng, rhythm, 365)
        assert days == sorted(set(days)) and days[0] >= 0 and days[-1] < 365
        assert all(GAP_CLIP[0] * 21 - 1 <= b - a <= GAP_CLIP[1] * 21 + 1 for a, b in itertools.pairwise(days))
        firsts.append(days[0])
    assert min(firsts) < 7 < max(firsts)  # a random phase, not everybody on day 0


def test_a_lost_rhythm_stretches_out_then_stops_inside_the_scenario() -> None:
    rng = random.Random(3)
    found = 0
    for _ in range(200):
        rhythm = draw_rhythm(rng, quarterly=False)
        normal = active_days(rng, rhythm, 180)
        story = stretch_out(rng, rhythm, normal, 180)
        if story is None:
            continue
        found += 1
        signal, lost, days = story
        cut = days.index(signal - 1)
        assert cut >= 2 and list(days[: cut + 1]) == normal[: cut + 1]  # at least two normal gaps first
        stretched = [b - a for a, b in itertools.pairwise(days[cut:])]
        assert 1 <= len(stretched) <= 3 and stretched == sorted(stretched)
        assert all(g >= round(1.6 * rhythm.mean) for g in stretched)
        assert lost == days[-1] < 180 and signal <= lost
    assert found > 150
    assert stretch_out(random.Random(4), Rhythm(100.0, 3.0), [10, 100], 180) is None  # no room for it


def test_a_pause_fits_with_normal_days_on_both_sides() -> None:
    rng = random.Random(5)
    lengths = []
    for _ in range(200):
        window = pause_window(rng, 180)
        assert window is not None
        begin, end = window
        assert begin >= 14 and end <= 180 - 14
        lengths.append(end - begin)
    assert 30 <= min(lengths) < 45 and 110 < max(lengths) <= 120
    assert pause_window(rng, 57) is None
    assert pause_window(random.Random(9), 180) == pause_window(random.Random(9), 180)
