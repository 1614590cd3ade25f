"""Ground truth: every customer, consistent with the personas, no simulation needed."""

from __future__ import annotations

from dataclasses import replace

from streams.sim.event import SimEvent
from streams.sim.personas import (
    COMPLAINER,
    DORMANT,
    DRIFTING,
    PERSONA_WEIGHTS,
    PERSONAS,
)
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
        if facts["lost_on"] is None:
            assert facts["signal_on"] is None
            continue
        lost += 1
        assert facts["persona"] in (DRIFTING, COMPLAINER, DORMANT)
        assert facts["signal_on"] is not None
        assert START.date() <= facts["signal_on"] <= facts["lost_on"] < END.date()
    assert 0.08 < lost / len(truth) < 0.25  # churners plus lapsing dormant customers
    lapsing = [c for c in customers_of(truth, DORMANT) if truth[c]["lost_on"] is not None]
    assert lapsing and len(lapsing) < len(customers_of(truth, DORMANT)) / 2
    # no simulation needed, and independent of the population size
    small = ground_truth(replace(SCENARIO, customers=30))
    assert small == {c: facts for c, facts in truth.items() if c <= "C000030"}
