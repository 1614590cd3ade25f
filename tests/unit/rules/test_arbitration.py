"""Next-best-offer arbitration: strategies, every pure stage per offer, and the ranking."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from rules.evaluate.arbitration import (
    ALLOWED,
    NO_PROPENSITY,
    NOT_ELIGIBLE,
    NOT_IN_STRATEGY,
    NOT_TRIGGERED,
    OUTSIDE_VALIDITY,
    SUPPRESSED,
    arbitrate,
    bucket,
    clamp_propensity,
    policy_reason,
    strategy_for,
)
from rules.load.model import Challenger, ContactPolicy, Offer, Strategies, Strategy, Weights
from schemas.outputs import ChurnLevel

PROFILE: dict[str, Any] = {"customer_id": "c1", "marketing_consent": True, "complaints_open": 0}
LOGIN: dict[str, Any] = {"kind": "login"}


def offer(offer_id: str, **fields: Any) -> Offer:
    values: dict[str, Any] = {
        "id": offer_id,
        "product": "CARD",
        "description": "an offer",
        "eligible": "true",
        "value": 10.0,
        "channels": ["mobile"],
        "reason": "why",
    }
    return Offer.model_validate(values | fields)


def test_buckets_are_stable_and_in_the_unit_interval() -> None:
    points = [bucket("salt", f"c{i}") for i in range(200)]
    assert all(0.0 <= p < 1.0 for p in points) and len(set(points)) == 200
    assert bucket("salt", "c1") == bucket("salt", "c1") != bucket("other", "c1")


def test_challengers_take_their_share_in_order_and_the_champion_the_rest() -> None:
    strategies = Strategies(
        champion=Strategy(name="champion"),
        challengers=[Challenger(name="a", share=0.2), Challenger(name="b", share=0.3)],
    )
    names = [strategy_for(strategies, f"c{i}").name for i in range(2000)]
    for name, share in (("a", 0.2), ("b", 0.3), ("champion", 0.5)):
        assert names.count(name) / len(names) == pytest.approx(share, abs=0.04)
    for i in range(50):
        point = bucket(strategies.salt, f"c{i}")
        expected = "a" if point < 0.2 else "b" if point < 0.5 else "champion"
        assert strategy_for(strategies, f"c{i}").name == expected


def test_contact_policy_reasons_in_their_order() -> None:
    policy = ContactPolicy()
    sales, retention = offer("offer.sales"), offer("offer.keep", category="retention")
    assert policy_reason(policy, PROFILE, sales, None) == ""
    assert policy_reason(
        policy, {**PROFILE, "marketing_consent": False, "complaints_open": 1}, sales, None
    ) == ("no_consent")
    assert policy_reason(policy, {**PROFILE, "complaints_open": 1}, sales, None) == "complaint_open"
    blocked = policy.block_sales_at_levels[0]
    assert policy_reason(policy, PROFILE, sales, blocked) == "churn_risk"
    assert policy_reason(policy, PROFILE, retention, blocked) == ""


def test_every_stage_decides_in_order() -> None:
    offers = [
        offer("offer.not_eligible"),
        offer("offer.other_strategy"),
        offer("offer.not_triggered", triggers=["salary_credit"]),
        offer("offer.ended", valid_until=date(2025, 1, 31)),
        offer("offer.unsuitable"),
        offer("offer.zero"),
        offer("offer.fine"),
    ]
    allowed = [o.id for o in offers if o.id != "offer.other_strategy"]
    strategies = Strategies(champion=Strategy(name="champion", offers=allowed))
    stages = [(False, True, 1.0), (True, True, 1.0), (True, True, 1.0), (True, True, 1.0)]
    stages += [(True, False, 1.0), (True, True, 0.0), (True, True, 0.5)]
    result = arbitrate(offers, strategies, ContactPolicy(), PROFILE, LOGIN, None, stages, date(2025, 3, 1))
    assert result.decisions == (
        NOT_ELIGIBLE,
        NOT_IN_STRATEGY,
        NOT_TRIGGERED,
        OUTSIDE_VALIDITY,
        SUPPRESSED,
        NO_PROPENSITY,
        ALLOWED,
    )
    assert result.suppressed == (("offer.unsuitable", "not_suitable"),)
    assert [c.offer.id for c in result.candidates] == ["offer.fine"] and result.strategy == "champion"
    # without a date the campaign window is not checked
    undated = arbitrate(offers, strategies, ContactPolicy(), PROFILE, LOGIN, None, stages, None)
    assert undated.decisions[3] == ALLOWED


def test_candidates_rank_by_weighted_propensity_value_and_lever() -> None:
    offers = [
        offer("offer.a", value=10.0),
        offer("offer.b", value=40.0, priority=0.5),
        offer("offer.c", value=10.0),
    ]
    stages = [(True, True, 0.9), (True, True, 0.3), (True, True, 0.9)]
    result = arbitrate(offers, Strategies(), ContactPolicy(), PROFILE, LOGIN, None, stages, None)
    assert [(c.offer.id, c.score) for c in result.candidates] == [
        ("offer.a", 9.0),
        ("offer.c", 9.0),
        ("offer.b", 6.0),
    ]
    levered = Strategies(
        champion=Strategy(name="champion", levers={"offer.b": 2.0}, weights=Weights(value=0.0))
    )
    result = arbitrate(offers, levered, ContactPolicy(), PROFILE, LOGIN, None, stages, None)
    assert [(c.offer.id, c.lever, c.score) for c in result.candidates] == [
        ("offer.a", 1.0, 0.9),
        ("offer.c", 1.0, 0.9),
        ("offer.b", 2.0, 0.6),
    ]


def test_nothing_eligible_is_decided_without_ranking() -> None:
    offers = [offer("offer.a"), offer("offer.b")]
    stages = [(False, True, 1.0), (False, True, 1.0)]
    result = arbitrate(offers, Strategies(), ContactPolicy(), PROFILE, LOGIN, ChurnLevel.HIGH, stages, None)
    assert result == ("champion", (), (), (NOT_ELIGIBLE, NOT_ELIGIBLE))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.4, 0.4), (1, 1.0), (1.7, 1.0), (-3, 0.0), (True, 0.0), (None, 0.0), ("0.5", 0.0)],
)
def test_propensity_is_clamped_to_a_probability(value: Any, expected: float) -> None:
    assert clamp_propensity(value) == expected
