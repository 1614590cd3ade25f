"""``replay --scores-at DATE --scores FILE``: every customer's churn probability as of a day, in a CSV.

A retention team's list and the scorecard's ranking input: one row per customer known by the end of
the day, silent ones included (a silent customer is the one a score is most needed for), computed
as a silence check at the end of that day would see them (streams/backtest/asof.py).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from agents.retention import top_reasons
from rules.load.ruleset import Ruleset
from schemas.profile.bgnbd import BgNbdParams
from streams.backtest.asof import as_of, epoch_day
from streams.config import pipeline_config, store_config
from streams.settings import Settings

HEADER = ("customer_id", "probability", "level", "p_alive", "reasons")


def write_scores(
    files: Sequence[Path],
    settings: Settings,
    ruleset: Ruleset,
    model: BgNbdParams | None,
    day: date,
    out: Path,
) -> int:
    """Write the scores of every customer as of the end of ``day`` to ``out``; returns how many."""
    ((_, customers),) = list(
        as_of(
            files, pipeline_config(settings), store_config(settings), ruleset, [epoch_day(day)], model, True
        )
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for entry in sorted(customers, key=lambda e: e.customer_id):
            evaluation = entry.evaluation
            profile = evaluation.context["profile"]
            writer.writerow(
                (
                    entry.customer_id,
                    f"{evaluation.score:.6f}",
                    evaluation.level.value if evaluation.level is not None else "",
                    f"{profile['p_alive']:.6f}",
                    ";".join(top_reasons(evaluation)),
                )
            )
    return len(customers)
