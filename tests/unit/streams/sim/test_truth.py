"""Ground truth: every customer, consistent with the personas, no simulation needed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from streams.sim.event import SimEvent
from streams.sim.personas import (
    CARD_DAILY,
    COMPLAINER,
    DORMANT,
    DRIFTING,
    MIXES,
    OCCASIONAL,
    PAUSER,
    PERSONA_WEIGHTS,
    PERSONAS,
    RHYTHM_PERSONAS,
)
from streams.sim.scenario import PERSONA_MIXES, Scenario
from streams.sim.truth import GroundTruth, ground_truth
from tests.unit.streams.sim.traffic import (
    END,
    SCENARIO,
    START,
    customers_of,
)


def test_ground_truth_covers_every_customer_consistently(
    truth: dict[str, GroundTruth], events: list[SimEvent]
) -> None:
    assert set(truth) == {e.customer_id for e in events}
    assert len(truth) == SCENARIO.customers
    assert {facts["persona"] for facts in truth.values()} == set(PERSONAS)
    assert abs(sum(PERSONA_WEIGHTS) - 1.0) < 1e-9
    lost = 0
    for facts in truth.values():
        if facts["persona"] in (DRIFTING, COMPLAINER):
            assert facts["signal_on"] is not None and facts["lost_on"] is not None
        if facts["persona"] == PAUSER:  # they come back
            assert facts["signal_on"] is None and facts["lost_on"] is None
        if facts["lost_on"] is None:
            assert facts["signal_on"] is None
            continue
        lost += 1
        assert facts["persona"] in (DRIFTING, COMPLAINER, DORMANT, OCCASIONAL, CARD_DAILY)
        assert facts["signal_on"] is not None
        assert START.date() <= facts["signal_on"] <= facts["lost_on"] < END.date()
    assert 0.08 < lost / len(truth) < 0.28  # churners, lapsing dormant, lost occasional and card-daily
    lapsing = [c for c in customers_of(truth, DORMANT) if truth[c]["lost_on"] is not None]
    assert lapsing and len(lapsing) < len(customers_of(truth, DORMANT)) / 2
    # no simulation needed, and independent of the population size
    small = ground_truth(replace(SCENARIO, customers=30))
    assert small == {c: facts for c, facts in truth.items() if c <= "C000030"}


def test_the_bank_mix_has_its_documented_shares() -> None:
    """About 22% rhythm personas, 15-20% lost, the bank personas in their earlier proportions."""
    truth = ground_truth(Scenario(customers=5000, days=180, seed=11, start=START))
    personas = [facts["persona"] for facts in truth.values()]
    rhythm = sum(p in RHYTHM_PERSONAS for p in personas) / len(personas)
    assert 0.20 <= rhythm <= 0.25
    lost = [facts for facts in truth.values() if facts["lost_on"] is not None]
    assert 0.15 <= len(lost) / len(truth) <= 0.20
    for persona in (OCCASIONAL, CARD_DAILY):
        of_persona = personas.count(persona)
        assert 0.1 * of_persona < sum(facts["persona"] == persona for facts in lost) < 0.5 * of_persona
    assert personas.count("loyal_salaried") / personas.count(DRIFTING) == pytest.approx(0.50 / 0.09, rel=0.05)


def test_every_mix_is_known_and_the_card_only_mix_has_rhythm_personas_only() -> None:
    assert set(MIXES) == set(PERSONA_MIXES)
    assert all(
        len(mix.weights) == len(PERSONAS) and abs(sum(mix.weights) - 1) < 1e-9 for mix in MIXES.values()
    )
    truth = ground_truth(Scenario(customers=2000, days=540, seed=3, start=START, personas="card_only"))
    assert {facts["persona"] for facts in truth.values()} == RHYTHM_PERSONAS
    lost = sum(facts["lost_on"] is not None for facts in truth.values()) / len(truth)
    assert 0.35 < lost < 0.6  # like a purchase history: many never come back
    with pytest.raises(ValueError, match="personas"):
        Scenario(personas="martians")
