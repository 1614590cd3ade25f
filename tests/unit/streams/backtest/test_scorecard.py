"""Scorecard arithmetic from plain records: precision, recall, F1, lead times and false alarms per
level, alerts per customer per month, the truth and scores files, labels at a date, AUROC and AP."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from schemas.outputs import ChurnLevel
from streams.backtest.scorecard import (
    CustomerScore,
    Firing,
    Truth,
    format_scorecard,
    is_labelled,
    labels_at,
    load_scores,
    load_truth,
    ranking,
    scorecard,
)

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
    assert lines[5].startswith("churn.a") and lines[6].startswith("churn.b")  # after the 4 levels


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


SCORES_HEADER = "customer_id,probability,level,p_alive,reasons\n"
# A ranks first and churned, B second and stayed, C third and churned, D last and stayed.
# AUROC: of the 4 (churned, stayed) pairs only (C, B) is misordered: 3/4.
# AP: churned customers at ranks 1 and 3: (1/1 + 2/3) / 2 = 5/6.
# 1 - p_alive orders A, C, B, D: both churned customers first, AUROC and AP 1.
SCORES = (
    SCORES_HEADER
    + "A,0.9,critical,0.1,churn.a;churn.b\n"
    + "B,0.8,high,0.6,churn.a\n"
    + "C,0.7,watch,0.2,\n"
    + "D,0.1,,0.9,\n"
)


def test_the_scores_file_is_read_with_levels_and_reasons(tmp_path: Path) -> None:
    scores = load_scores(_write(tmp_path / "scores.csv", SCORES))
    assert scores["A"] == CustomerScore(0.9, ChurnLevel.CRITICAL, 0.1, ("churn.a", "churn.b"))
    assert scores["D"] == CustomerScore(0.1, None, 0.9, ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("customer_id,probability,level,p_alive\nA,0.1,,0.5\n", r"scores.csv:1: expected the header"),
        (
            SCORES_HEADER + "A,0.1,,0.5,\nB,1.5,,0.5,\n",
            r"scores.csv:3: probability '1.5' is not a number in \[0, 1\]",
        ),
        (SCORES_HEADER + "A,0.1,,nan,\n", r"scores.csv:2: p_alive 'nan' is not a number"),
        (
            SCORES_HEADER + "A,0.1,severe,0.5,\n",
            r"scores.csv:2: level 'severe' is not one of watch\|elevated",
        ),
        (SCORES_HEADER + "A,0.1,,0.5\n", r"scores.csv:2: expected 5 fields, found 4"),
        (SCORES_HEADER + "A,0.1,,0.5,\nA,0.2,,0.5,\n", r"scores.csv:3: customer A appears twice"),
    ],
)
def test_a_malformed_scores_file_is_refused_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_scores(_write(tmp_path / "scores.csv", text))


def test_the_simulator_truth_keeps_its_dates(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "truth.json",
        json.dumps(
            {
                "L": {"persona": "drifting", "signal_on": "2026-02-01", "lost_on": "2026-03-01"},
                "S": {"persona": "loyal", "signal_on": None, "lost_on": None},
            }
        ),
    )
    truth = load_truth(path)
    assert truth["L"] == Truth("drifting", date(2026, 3, 1), signal_on=date(2026, 2, 1))
    assert truth["S"] == Truth("loyal", None) and not truth["S"].lost
    assert not is_labelled(truth)


def test_a_malformed_simulator_truth_is_refused_with_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "truth.json", '{\n"A": {"persona": "x"},\n"B": {"persona": "y", "lost_on": "soon"}\n}'
    )
    with pytest.raises(ValueError, match=r"truth.json:3: customer B: lost_on 'soon' is not an ISO date"):
        load_truth(path)
    with pytest.raises(ValueError, match=r"truth.json:1:7: not valid JSON"):
        load_truth(_write(tmp_path / "truth.json", '{"A": }'))


def test_a_csv_truth_takes_its_dates_from_a_column_or_from_the_caller(tmp_path: Path) -> None:
    own = load_truth(
        _write(tmp_path / "a.csv", "customer_id,churned,observed_on\nA,1,2026-06-30\nB,false,2026-05-31\n")
    )
    assert own == {
        "A": Truth("", None, churned=True, observed_on=date(2026, 6, 30)),
        "B": Truth("", None, churned=False, observed_on=date(2026, 5, 31)),
    }
    assert is_labelled(own) and own["A"].lost and not own["B"].lost
    given = load_truth(
        _write(tmp_path / "b.csv", "customer_id , churned\r\nA,TRUE\r\n\r\nB,0\r\n"), date(2026, 6, 30)
    )
    assert {c: (t.churned, t.observed_on) for c, t in given.items()} == {
        "A": (True, date(2026, 6, 30)),
        "B": (False, date(2026, 6, 30)),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"t.csv:1: expected a header customer_id,churned\[,observed_on\]"),
        ("customer,churned\nA,1\n", r"t.csv:1: expected a header .* found customer,churned"),
        ("customer_id,churned\n", r"t.csv: no customers after the header"),
        ("customer_id,churned\nA,1\nB,yes\n", r"t.csv:3: churned is 'yes', expected 1, 0, true or false"),
        ("customer_id,churned\nA,1,2026-01-01\n", r"t.csv:2: expected 2 fields"),
        ("customer_id,churned\nA,1\nA,0\n", r"t.csv:3: customer A appears twice"),
        ("customer_id,churned\n,1\n", r"t.csv:2: empty customer_id"),
        (
            "customer_id,churned,observed_on\nA,1,30/06/2026\n",
            r"t.csv:2: observed_on '30/06/2026' is not an ISO",
        ),
    ],
)
def test_a_malformed_csv_truth_is_refused_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_truth(_write(tmp_path / "t.csv", text), date(2026, 6, 30))


def test_a_csv_truth_without_an_observation_date_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "customer_id,churned,observed_on\nA,1,2026-06-30\nB,0,\n")
    with pytest.raises(
        ValueError, match=r"t.csv:3: no observation date: add an observed_on column or give one"
    ):
        load_truth(path)


def test_a_csv_date_that_disagrees_with_the_one_given_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "customer_id,churned,observed_on\nA,1,2026-06-30\nB,0,\n")
    assert load_truth(path, date(2026, 6, 30))["B"].observed_on == date(
        2026, 6, 30
    )  # an empty cell: the one given
    with pytest.raises(ValueError, match=r"t.csv:2: observed_on 2026-06-30 disagrees with .* \(2026-07-01\)"):
        load_truth(path, date(2026, 7, 1))


def test_labels_at_the_observation_date_count_losses_up_to_the_horizon() -> None:
    # DAY0 + 100 = 2026-04-11; the horizon ends at day(10 + 90) = day(100)
    truth = {
        "before": Truth("x", day(5)),  # lost before the observation date: churned
        "edge": Truth("x", day(100)),  # lost on the last day of the horizon: churned
        "later": Truth("x", day(101)),  # lost after it: not churned as of day 10
        "stayed": Truth("x", None),
    }
    assert labels_at(truth, day(10)) == {"before": True, "edge": True, "later": False, "stayed": False}
    assert labels_at(truth, day(10), horizon_days=91)["later"] is True
    assert labels_at(truth, day(10), horizon_days=0) == {
        "before": True,
        "edge": False,
        "later": False,
        "stayed": False,
    }
    with pytest.raises(ValueError, match="needs an observation date"):
        labels_at(truth, None)
    labelled = {"A": Truth("", None, churned=True, observed_on=day(10)), "B": Truth("", None, churned=False)}
    assert labels_at(labelled, None) == {"A": True, "B": False}  # a CSV's labels are its own


def _abcd_truth() -> dict[str, Truth]:
    return {c: Truth("x", day(50) if c in "AC" else None) for c in "ABCD"}


def test_ranking_metrics_and_levels_match_a_hand_computation(tmp_path: Path) -> None:
    scores = load_scores(_write(tmp_path / "scores.csv", SCORES))
    truth = {**_abcd_truth(), "E": Truth("x", None)}  # E is not scored: left out
    rank = ranking({**scores, "Z": CustomerScore(0.5, None, 0.5, ())}, truth, day(10))
    assert (rank.customers, rank.churned, rank.not_scored, rank.not_in_truth) == (4, 2, 1, 1)
    assert rank.base_rate == 0.5
    assert rank.auroc == pytest.approx(3 / 4)
    assert rank.average_precision == pytest.approx(5 / 6)
    assert rank.baseline_auroc == pytest.approx(1.0) and rank.baseline_average_precision == pytest.approx(1.0)
    by_level = {x.level: x for x in rank.levels}
    # watch: A, B, C flagged, A and C churned; high (and elevated): A, B; critical: A
    watch, elevated, high = (
        by_level[ChurnLevel.WATCH],
        by_level[ChurnLevel.ELEVATED],
        by_level[ChurnLevel.HIGH],
    )
    assert watch.flagged == 3 and watch.precision == pytest.approx(2 / 3) and watch.recall == 1.0
    assert watch.f1 == pytest.approx(0.8)
    assert elevated.flagged == 2 and elevated.f1 == pytest.approx(0.5)
    assert high.true_positives == 1 and high.f1 == pytest.approx(0.5)
    assert by_level[ChurnLevel.CRITICAL].f1 == pytest.approx(2 / 3)


def test_ranking_labels_move_with_the_observation_date(tmp_path: Path) -> None:
    """As of day(-50), A and C are lost after the 90-day horizon: nobody churned, no AUROC."""
    scores = load_scores(_write(tmp_path / "scores.csv", SCORES))
    rank = ranking(scores, _abcd_truth(), day(-50))
    assert (rank.churned, rank.auroc, rank.average_precision) == (0, None, None)
    assert all(x.true_positives == 0 and x.recall == 0.0 for x in rank.levels)
    assert ranking(scores, _abcd_truth(), day(-50), horizon_days=100).auroc == pytest.approx(3 / 4)


def test_ranking_ties_count_half() -> None:
    scores = {c: CustomerScore(p, None, 0.5, ()) for c, p in zip("ABCD", (0.9, 0.9, 0.7, 0.1), strict=True)}
    rank = ranking(scores, _abcd_truth(), day(10))
    # (A, B) tied: 1/2; (A, D), (C, D) right; (C, B) wrong: 2.5 / 4. AP: A and B at one threshold
    # (precision 1/2, recall 1/2), then C (2/3, 1): 1/2 * 1/2 + 1/2 * 2/3
    assert rank.auroc == pytest.approx(2.5 / 4)
    assert rank.average_precision == pytest.approx(1 / 4 + 1 / 3)
    assert rank.baseline_auroc == pytest.approx(0.5)  # every p_alive equal


def test_alerts_are_scored_per_level_with_f1_and_alerts_per_customer_per_month() -> None:
    alerts = [
        Firing("L1", day(70), "alerts", ChurnLevel.HIGH),
        Firing("L1", day(75), "alerts", ChurnLevel.CRITICAL),
        Firing("L2", day(95), "alerts", ChurnLevel.HIGH),
        Firing("L3", day(60), "alerts", ChurnLevel.WATCH),
        Firing("S1", day(50), "alerts", ChurnLevel.HIGH),
        Firing("X9", day(50), "alerts", ChurnLevel.WATCH),  # not in the truth: sent, but not scored
    ]
    card = scorecard(alerts, [], TRUTH, observed_days=120, min_level=ChurnLevel.WATCH)
    watch, elevated, high, critical = card.levels
    assert card.alerts is watch
    assert (watch.flagged, watch.true_positives, watch.precision, watch.recall) == (4, 3, 0.75, 1.0)
    assert watch.f1 == pytest.approx(2 * 0.75 / 1.75)
    assert watch.lead_days == (-5, 20, 30)
    assert (elevated.flagged, high.flagged) == (3, 3) and high.f1 == pytest.approx(2 / 3)
    assert (critical.flagged, critical.precision, critical.recall, critical.lead_days) == (
        1,
        1.0,
        1 / 3,
        (25,),
    )
    assert critical.f1 == pytest.approx(0.5)
    # 6 alerts sent, 5 customers in the truth, 4 months
    assert card.alerts_sent == 6 and card.alerts_per_customer_per_month == pytest.approx(6 / 5 / 4)


def test_a_csv_truth_counts_alerts_in_the_horizon_up_to_the_observation_date() -> None:
    seen = day(100)
    truth = {
        "A": Truth("", None, churned=True, observed_on=seen),
        "B": Truth("", None, churned=True, observed_on=seen),
        "C": Truth("", None, churned=False, observed_on=seen),
        "D": Truth("", None, churned=False, observed_on=seen),
    }
    alerts = [
        Firing("A", day(11), "alerts", ChurnLevel.HIGH),  # first of the 90 days up to day 100
        Firing("B", day(10), "alerts", ChurnLevel.HIGH),  # 91 days before: too old
        Firing("B", day(101), "alerts", ChurnLevel.CRITICAL),  # after the observation date: not a prediction
        Firing("C", day(100), "alerts", ChurnLevel.WATCH),  # on the observation date: counted
    ]
    rules = [Firing("B", day(5), "churn.a"), Firing("D", day(101), "churn.a")]
    card = scorecard(alerts, rules, truth, observed_days=200, min_level=ChurnLevel.HIGH)
    watch, _, high, critical = card.levels
    assert (watch.flagged, watch.true_positives, watch.lost, watch.lead_days) == (2, 1, 2, ())
    assert (high.flagged, high.precision, high.recall, critical.flagged) == (1, 1.0, 0.5, 0)
    # one false alarm among 2 who stayed, over the 90-day window (3 months): 1 / (2/1000) / 3
    assert watch.false_alarms_per_1000_per_month == pytest.approx(1000 / 2 / 3)
    [rule] = card.rules
    assert (rule.flagged, rule.true_positives) == (1, 1)  # B's first day is before day 100; D's after
    assert card.alerts_sent == 4 and card.window_days == 90
    lines = format_scorecard(card)
    assert lines[0].startswith("labels: the truth's churned column; alerts counted in the 90 days")
    assert lines[4].split()[-3:] == ["0.67", "-", "0.0"]  # alerts >= high (min level): f1, no lead


def test_the_scorecard_prints_levels_rules_alert_rate_and_ranking(tmp_path: Path) -> None:
    scores = load_scores(_write(tmp_path / "scores.csv", SCORES))
    alerts = [
        Firing("A", day(40), "alerts", ChurnLevel.CRITICAL),
        Firing("B", day(40), "alerts", ChurnLevel.WATCH),
    ]
    card = scorecard(
        alerts, [Firing("C", day(30), "churn.a")], _abcd_truth(), 60, scores=scores, observed_on=day(10)
    )
    assert card.ranking is not None and card.ranking.auroc == pytest.approx(0.75)
    lines = format_scorecard(card)
    assert lines[0].split()[:7] == ["flagged", "hits", "lost", "precision", "recall", "f1", "lead"]
    assert [line[:38].split(" (")[0].rstrip() for line in lines[1:5]] == [
        "alerts >= watch",
        "alerts >= elevated",
        "alerts >= high",
        "alerts >= critical",
    ]
    assert "alerts >= high (min level)" in lines[3]
    assert lines[1].split()[3:] == ["2", "1", "2", "0.50", "0.50", "0.50", "10/10/10", "250.0"]
    assert lines[3].split()[5:] == ["1", "1", "2", "1.00", "0.50", "0.67", "10/10/10", "0.0"]
    assert lines[5].split() == ["churn.a", "1", "1", "2", "1.00", "0.50", "0.67", "20/20/20", "0.0"]
    assert (
        lines[7]
        == "churn alerts sent: 2 to 4 customers in the truth over 2.0 months: 0.250 per customer per month"
    )
    assert lines[9] == f"ranking as of {day(10)} (churned: lost by {day(10)} + 90 days)"
    assert (
        lines[10]
        == "4 customers ranked; left out: 0 in the truth but not scored, 0 scored but not in the truth"
    )
    assert lines[12].split() == ["churn", "probability", "4", "2", "0.500", "0.750", "0.833"]
    assert lines[13].split()[-3:] == ["0.500", "1.000", "1.000"]
    assert lines[15].split() == ["level", ">=", "watch", "3", "2", "0.67", "1.00", "0.80"]
    assert len({len(line) for line in lines[11:14]}) == 1  # fixed width


def test_a_negative_horizon_is_refused() -> None:
    with pytest.raises(ValueError, match="the horizon must be 0 days or more, not -1"):
        scorecard([], [], TRUTH, observed_days=30, horizon_days=-1)
