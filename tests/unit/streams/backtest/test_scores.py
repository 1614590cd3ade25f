"""``replay --scores-at``'s file: every customer known by the day, silent ones included."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from rules.load.ruleset import load_ruleset
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.churn_probability import ChurnProbability
from streams.backtest.scores import HEADER, write_scores
from streams.settings import Settings
from tests.unit.streams.backtest.event_rows import T0, login, write

MODEL = BgNbdParams(
    r=1.0,
    alpha=5.0,
    a=1.0,
    b=5.0,
    probability=ChurnProbability(
        intercept=-4.0,
        features={"log_days_since_active_day": 1.0},
        feature_means={"log_days_since_active_day": 1.0},
    ),
)


def test_every_customer_known_by_the_day_gets_a_row_and_later_ones_none(tmp_path: Path) -> None:
    rows: list[object] = [login("STEADY", n, T0 + timedelta(days=n, hours=9)) for n in range(0, 100)]
    rows += [login("SILENT", n, T0 + timedelta(days=n, hours=10)) for n in range(0, 20)]
    rows += [login("LATER", 0, T0 + timedelta(days=95, hours=8))]
    rows.sort(key=lambda r: r["occurred_at"])  # type: ignore[index]
    files = [write(tmp_path / "interactions.jsonl", rows)]
    out = tmp_path / "scores.csv"
    settings = Settings()
    day = date(2026, 3, 31)  # day 89: LATER has not arrived yet
    count = write_scores(files, settings, load_ruleset([settings.rules_dir]), MODEL, day, out)
    with out.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == HEADER
        found = {row[0]: row for row in reader}
    assert count == 2 and set(found) == {"SILENT", "STEADY"}
    silent, steady = float(found["SILENT"][1]), float(found["STEADY"][1])
    assert silent > 0.5 > steady  # 70 quiet days: z = -4 + ln(71) = 0.26
    assert found["SILENT"][2] in ("elevated", "high") and found["STEADY"][2] == ""
    assert 0 <= float(found["SILENT"][3]) <= 1
    assert found["SILENT"][4].split(";")[0] == "churn.rhythm"  # ln(71) - 1 = 3.3 above the mean
