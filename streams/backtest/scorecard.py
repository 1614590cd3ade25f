"""Score churn alerts against ground truth: did we warn about the customers who left, and early?

Pure functions over plain records, so replay, tests and notebooks share one definition:

- a customer is *flagged* when an alert at ``min_level`` or above (default high) names them;
- *precision* = flagged customers who were lost / flagged customers; *recall* = lost customers who
  were flagged / lost customers;
- *lead time* = days from the first flagging alert to the day the customer was lost (negative when
  the warning came after the loss: still counted as found, but shown in the quartiles);
- *false alarms* = flagging alerts about customers who were not lost, per 1,000 such customers per
  30 days of observation.

Per rule the same figures are computed from the first day the rule fired for a customer (any
level), so an analyst sees which rules earn their place.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rules.evaluate.engine import LEVEL_ORDER
from schemas.outputs import ChurnLevel


@dataclass(frozen=True, slots=True)
class Truth:
    persona: str
    lost_on: date | None


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule or an alert concluding something about a customer on a day."""

    customer_id: str
    day: date
    name: str  # rule id, or "alerts" for churn alerts
    level: ChurnLevel | None = None


@dataclass(frozen=True, slots=True)
class Score:
    name: str
    flagged: int
    true_positives: int
    lost: int
    precision: float
    recall: float
    lead_days: tuple[int, ...]  # one per true positive
    false_alarms: int
    false_alarms_per_1000_per_month: float

    def lead_quartiles(self) -> tuple[float, float, float] | None:
        if not self.lead_days:
            return None
        if len(self.lead_days) == 1:
            only = float(self.lead_days[0])
            return only, only, only
        q1, q2, q3 = statistics.quantiles(self.lead_days, n=4, method="inclusive")
        return q1, q2, q3


def load_truth(path: Path) -> dict[str, Truth]:
    """Read the simulator's ``truth.json`` (customer -> persona, lost_on)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        customer: Truth(
            str(entry["persona"]), date.fromisoformat(entry["lost_on"]) if entry.get("lost_on") else None
        )
        for customer, entry in raw.items()
    }


def score(name: str, firings: Iterable[Firing], truth: Mapping[str, Truth], observed_days: float) -> Score:
    """Precision, recall, lead time and false-alarm rate of one set of firings."""
    first: dict[str, date] = {}
    false_alarms = 0
    for firing in firings:
        if firing.customer_id not in truth:
            continue
        if firing.customer_id not in first or firing.day < first[firing.customer_id]:
            first[firing.customer_id] = firing.day
        if truth[firing.customer_id].lost_on is None:
            false_alarms += 1
    lost = {c for c, t in truth.items() if t.lost_on is not None}
    hits = [c for c in first if c in lost]
    leads = tuple(sorted((truth[c].lost_on - first[c]).days for c in hits))  # type: ignore[operator]
    stayed = len(truth) - len(lost)
    months = max(observed_days, 1.0) / 30.0
    rate = false_alarms / (stayed / 1000) / months if stayed else 0.0
    return Score(
        name=name,
        flagged=len(first),
        true_positives=len(hits),
        lost=len(lost),
        precision=len(hits) / len(first) if first else 0.0,
        recall=len(hits) / len(lost) if lost else 0.0,
        lead_days=leads,
        false_alarms=false_alarms,
        false_alarms_per_1000_per_month=rate,
    )


def at_or_above(level: ChurnLevel | None, minimum: ChurnLevel) -> bool:
    return level is not None and LEVEL_ORDER.index(level) >= LEVEL_ORDER.index(minimum)


@dataclass(frozen=True, slots=True)
class Scorecard:
    alerts: Score
    rules: tuple[Score, ...]


def scorecard(
    alerts: Iterable[Firing],
    rule_firings: Iterable[Firing],
    truth: Mapping[str, Truth],
    observed_days: float,
    min_level: ChurnLevel = ChurnLevel.HIGH,
) -> Scorecard:
    """Score the alerts (at ``min_level`` or above) and every rule on its own."""
    flagged = [a for a in alerts if at_or_above(a.level, min_level)]
    by_rule: dict[str, list[Firing]] = {}
    for firing in rule_firings:
        by_rule.setdefault(firing.name, []).append(firing)
    return Scorecard(
        alerts=score(f"alerts >= {min_level.value}", flagged, truth, observed_days),
        rules=tuple(score(rule, found, truth, observed_days) for rule, found in sorted(by_rule.items())),
    )


def format_scorecard(card: Scorecard) -> list[str]:
    """Fixed-width table lines: the alerts first, then one line per rule."""
    lines = [
        f"{'':<38} {'flagged':>7} {'hits':>5} {'lost':>5} {'precision':>9} {'recall':>7} "
        f"{'lead q1/median/q3 (days)':>25} {'false alarms/1k/month':>22}"
    ]
    for entry in (card.alerts, *card.rules):
        quartiles = entry.lead_quartiles()
        lead = "-" if quartiles is None else "/".join(f"{q:.0f}" for q in quartiles)
        lines.append(
            f"{entry.name:<38} {entry.flagged:>7} {entry.true_positives:>5} {entry.lost:>5} "
            f"{entry.precision:>9.2f} {entry.recall:>7.2f} {lead:>25} "
            f"{entry.false_alarms_per_1000_per_month:>22.1f}"
        )
    return lines
