"""The risk scorecard: detection at or before the first high-value event, time to signal, false
signals per 1,000 customers per day, per rule; the truth read from the simulator's file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas.outputs import CustomerSignal, RiskLevel, RiskReason, RiskSignal, SignalKind
from streams.backtest.risk_scorecard import (
    FraudEpisode,
    LookAlike,
    RiskFiring,
    RiskTruth,
    format_risk_scorecard,
    load_risk_truth,
    risk_firing,
    risk_scorecard,
    risk_truth_of,
)
from streams.sim.scenario import Scenario
from streams.sim.truth import ground_truth

T0 = datetime(2025, 3, 1, tzinfo=UTC)
FIRST, LAST = T0, T0 + timedelta(days=10)


def _episode(
    customer: str, start_h: float, high_h: float, end_h: float, kind: str = "account_takeover"
) -> FraudEpisode:
    at = T0 + timedelta(days=5)
    return FraudEpisode(
        customer,
        kind,
        at + timedelta(hours=start_h),
        f"{customer}-F00003",
        at + timedelta(hours=high_h),
        at + timedelta(hours=end_h),
    )


def _signal(customer: str, hours: float, *rules: str) -> RiskFiring:
    at = T0 + timedelta(days=5, hours=hours)
    return RiskFiring(customer, rules[0], f"{customer}-{hours}", at, tuple(rules))


def test_detected_means_a_signal_from_the_start_up_to_the_high_value_event() -> None:
    truth = RiskTruth(
        2000,
        (
            _episode("EARLY", 1, 2, 3),  # a signal on the takeover's login
            _episode("ONTIME", 1, 2, 3, "card_fraud"),  # on the high-value event itself
            _episode("LATE", 1, 2, 3),  # after the money left
            _episode("MISSED", 1, 2, 3),
        ),
    )
    signals = [
        _signal("EARLY", 0.5, "risk.before"),  # before the episode began: not detection, not false
        _signal("EARLY", 1.0, "risk.new_device"),
        _signal("ONTIME", 2.0, "risk.amount", "risk.new_country"),
        _signal("LATE", 2.5, "risk.amount"),
        _signal("MISSED", 3 + 25, "risk.amount"),  # a day and an hour after its last event: false
    ]
    card = risk_scorecard(signals, truth, FIRST, LAST)
    assert [(r.episode.customer_id, r.detected) for r in card.episodes] == [
        ("EARLY", True),
        ("ONTIME", True),
        ("LATE", False),
        ("MISSED", False),
    ]
    assert card.detected == 2 and card.detection_rate == 0.5 and card.found == 3
    assert card.by_kind() == {"account_takeover": (1, 3), "card_fraud": (1, 1)}
    assert card.minutes_from_start() == [0.0, 60.0, 90.0]
    assert card.minutes_from_high_value() == [-60.0, 0.0, 30.0]
    # EARLY's signal half an hour before the start is outside every window: false, as is MISSED's
    assert card.false_signals == 2
    assert card.false_per_1000_per_day == pytest.approx(2 / 2000 * 1000 / 10)
    rules = {r.rule_id: r for r in card.rules}
    assert (rules["risk.amount"].signals, rules["risk.amount"].in_episodes, rules["risk.amount"].false) == (
        3,
        2,
        1,
    )
    assert rules["risk.amount"].detected == 1 and rules["risk.new_country"].detected == 1
    assert rules["risk.new_device"].detected == 1 and rules["risk.before"].false == 1


def test_false_signals_are_counted_per_1000_customers_per_day_after_the_warmup() -> None:
    truth = RiskTruth(
        500,
        (_episode("WARM", -100, -99, -98),),  # day 1: in the warm-up
        (LookAlike("PHONE", "new_phone", (T0 + timedelta(days=4)).date(), (T0 + timedelta(days=4)).date()),),
    )
    signals = [
        RiskFiring("A", "risk.x", "A-1", T0 + timedelta(hours=5)),  # in the warm-up
        RiskFiring("A", "risk.x", "A-2", T0 + timedelta(days=3)),
        RiskFiring("PHONE", "risk.new_device", "P-1", T0 + timedelta(days=5)),
    ]
    card = risk_scorecard(signals, truth, FIRST, LAST, warmup=timedelta(days=2))
    assert card.days == 8.0 and card.signals == 2 and card.left_out_signals == 1
    assert card.episodes == () and card.left_out_episodes == 1
    assert card.false_signals == 2
    assert card.false_per_1000_per_day == pytest.approx(2 / 500 * 1000 / 8)
    assert card.false_by_lookalike == {"new_phone": 1, "none": 1}
    lines = format_risk_scorecard(card)
    assert "warm-up left out: 1 signals, 1 episodes" in lines[0]
    assert any("0.50 per 1,000 customers per day" in line for line in lines)
    assert lines[-1].split() == ["risk.x", "1", "0", "1", "0", "0.25"]


def test_no_signals_no_detection_and_no_false_ones() -> None:
    card = risk_scorecard([], RiskTruth(100, (_episode("X", 1, 2, 3),)), FIRST, LAST)
    assert card.detected == 0 and card.found == 0 and card.false_signals == 0
    assert card.minutes_from_start() == [] and card.detection_rate == 0.0
    assert "from the start -" in "\n".join(format_risk_scorecard(card))


def test_risk_signals_of_both_contracts_are_firings() -> None:
    common = {
        "signal_id": "s1",
        "customer_id": "C1",
        "trigger_event_id": "C1-F00001",
        "occurred_at": T0,
        "ruleset_version": "v1",
    }
    new = RiskSignal(
        **common,
        rule_id="risk.a",
        score=80,
        level=RiskLevel.HIGH,
        reasons=[
            RiskReason(rule_id="risk.a", message="m", score=60, evidence={}),
            RiskReason(rule_id="risk.b", message="m", score=50, evidence={}),
        ],
        recommended_action="hold_payment",
    )
    assert risk_firing(new) == RiskFiring("C1", "risk.a", "C1-F00001", T0, ("risk.a", "risk.b"))
    old = CustomerSignal(**common, kind=SignalKind.RISK, rule_id="risk.c", message="m", evidence={})
    assert risk_firing(old) == RiskFiring("C1", "risk.c", "C1-F00001", T0)
    assert risk_firing(old.model_copy(update={"kind": SignalKind.TAG})) is None
    assert risk_firing("anything else") is None


def test_the_simulators_truth_file_is_read_as_written(tmp_path: Path) -> None:
    scenario = Scenario(customers=300, days=60, seed=3, start=T0, fraud_share=0.1)
    truth = ground_truth(scenario)
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(truth, default=str, indent=1))  # as signalbank simulate writes it
    read = load_risk_truth(path)
    assert read == risk_truth_of(truth)
    assert read.customers == 300
    expected = [(c, e["first_high_value"]) for c, f in truth.items() for e in f.get("fraud", [])]
    assert [(e.customer_id, e.first_high_value) for e in read.episodes] == expected and expected
    assert all(e.start <= e.first_high_value_at <= e.end for e in read.episodes)
    assert {look.kind for look in read.lookalikes} >= {"new_phone", "trip_abroad"}


def test_a_malformed_truth_is_refused_with_where(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    path.write_text('{"C1": {"persona": "x", "fraud": [{"kind": "card_fraud"}]}}')
    with pytest.raises(ValueError, match=r"truth.json: customer C1: bad fraud"):
        load_risk_truth(path)
    path.write_text("[1]")
    with pytest.raises(ValueError, match=r"truth.json:1: expected an object"):
        load_risk_truth(path)
