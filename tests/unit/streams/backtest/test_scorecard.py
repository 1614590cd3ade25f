"""Scorecard arithmetic: precision, recall, lead times and false alarms from plain records."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from schemas.outputs import ChurnLevel
from streams.backtest.scorecard import Firing, Truth, format_scorecard, scorecard

DAY0 = date(2026, 1, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


TRUTH = {
    "L1": Truth("drifting", day(100)),
    "L2": Truth("drifting", day(90)),
    "L3": Truth("complainer", day(80)),
    "S1": Truth("loyal_salaried", None),
    "S2": Truth("loyal_salaried", None),
}


def test_alerts_are_scored_per_customer_with_leads_and_false_alarms() -> None:
    alerts = [
        Firing("L1", day(70), "alerts", ChurnLevel.HIGH),
        Firing("L1", day(75), "alerts", ChurnLevel.CRITICAL),  # later alerts do not move the lead
        Firing("L2", day(95), "alerts", ChurnLevel.HIGH),  # after the loss: found, negative lead
        Firing("L3", day(60), "alerts", ChurnLevel.WATCH),  # below the minimum level: ignored
        Firing("S1", day(50), "alerts", ChurnLevel.HIGH),
    ]
    card = scorecard(alerts, [], TRUTH, observed_days=120)
    assert (card.alerts.flagged, card.alerts.true_positives, card.alerts.lost) == (3, 2, 3)
    assert card.alerts.precision == pytest.approx(2 / 3)
    assert card.alerts.recall == pytest.approx(2 / 3)
    assert card.alerts.lead_days == (-5, 30)
    # one false alarm among 2 customers who stayed, over 4 months: 1 / (2/1000) / 4
    assert card.alerts.false_alarms_per_1000_per_month == pytest.approx(125.0)


def test_rules_are_scored_on_their_own() -> None:
    firings = [
        Firing("L1", day(50), "churn.a"),
        Firing("S1", day(10), "churn.b"),
        Firing("L3", day(79), "churn.b"),
    ]
    card = scorecard([], firings, TRUTH, observed_days=30)
    scores = {s.name: s for s in card.rules}
    assert scores["churn.a"].precision == 1.0 and scores["churn.a"].lead_days == (50,)
    assert scores["churn.b"].precision == 0.5 and scores["churn.b"].recall == pytest.approx(1 / 3)
    lines = format_scorecard(card)
    assert len(lines) == 4 and lines[2].startswith("churn.a")
