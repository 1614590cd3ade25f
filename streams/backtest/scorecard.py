"""Score churn warnings against what customers really did: the alerts (did we warn about the
customers who left, and early?) and, given a scores file, the ranking of every customer as of a day.

Pure functions over plain records, so replay, tests and notebooks share one definition
(docs/backtesting.md, "The scorecard"):

- the truth is the simulator's ``truth.json`` (loss dates) or a plain CSV of labels
  (``customer_id,churned`` plus an observation date ``D``);
- a customer is *flagged* at a level when an alert at that level or above names them (with a CSV
  truth: an alert sent in the ``N`` days up to ``D``, since later alerts would know the future);
- *precision* = flagged customers who were lost / flagged customers; *recall* = lost customers who
  were flagged / lost customers; *F1* their harmonic mean;
- *lead time* = days from the first flagging alert to the day the customer was lost (negative when
  the warning came after the loss: still counted as found, but shown in the quartiles); none
  without loss dates;
- *false alarms* = flagging alerts about customers who were not lost, per 1,000 such customers per
  30 days of observation;
- *ranking*: as of ``D``, a customer is churned when lost by ``D + N`` days (or by the CSV's label);
  AUROC and average precision of the scores file's probability and of the baseline ``1 - p_alive``.

Per rule the same figures are computed from the first day the rule fired for a customer (any
level), so an analyst sees which rules earn their place.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from rules.evaluate.engine import LEVEL_ORDER
from schemas.outputs import ChurnLevel

#: Days after the observation date within which a loss counts as churn (the sim truth's labels).
DEFAULT_HORIZON_DAYS = 90
#: The scores file written by ``signalbank replay --scores-at DATE --scores OUT.csv``.
SCORES_COLUMNS = ("customer_id", "probability", "level", "p_alive", "reasons")
_CHURNED = {"1": True, "true": True, "0": False, "false": False}


@dataclass(frozen=True, slots=True)
class Truth:
    """What really happened to one customer: the simulator's dates, or a CSV's label and its date."""

    persona: str
    lost_on: date | None
    signal_on: date | None = None
    churned: bool | None = None  # a CSV truth's label (it has no loss dates)
    observed_on: date | None = None  # a CSV truth's observation date for this customer

    @property
    def lost(self) -> bool:
        """Lost during the history (simulator), or labelled churned (CSV)."""
        return self.churned if self.churned is not None else self.lost_on is not None


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule or an alert concluding something about a customer on a day."""

    customer_id: str
    day: date
    name: str  # rule id, or "alerts" for churn alerts
    level: ChurnLevel | None = None


def f1_score(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass(frozen=True, slots=True)
class Score:
    name: str
    flagged: int
    true_positives: int
    lost: int
    precision: float
    recall: float
    lead_days: tuple[int, ...]  # one per true positive with a loss date
    false_alarms: int
    false_alarms_per_1000_per_month: float

    @property
    def f1(self) -> float:
        return f1_score(self.precision, self.recall)

    def lead_quartiles(self) -> tuple[float, float, float] | None:
        if not self.lead_days:
            return None
        if len(self.lead_days) == 1:
            only = float(self.lead_days[0])
            return only, only, only
        q1, q2, q3 = statistics.quantiles(self.lead_days, n=4, method="inclusive")
        return q1, q2, q3


@dataclass(frozen=True, slots=True)
class CustomerScore:
    """One row of the scores file: the customer's churn probability and level as of its day."""

    probability: float
    level: ChurnLevel | None  # None: below watch
    p_alive: float
    reasons: tuple[str, ...]


# --- reading the files -------------------------------------------------------------------------


def load_truth(path: Path, observed_on: date | None = None) -> dict[str, Truth]:
    """Read the simulator's ``truth.json`` or a CSV ``customer_id,churned[,observed_on]``.

    ``observed_on`` is the CSV's observation date when it has no such column (or an empty cell);
    a file whose dates disagree with it is refused rather than guessed at."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if text.lstrip().startswith("{"):
        return _sim_truth(path, text)
    return _csv_truth(path, text, observed_on)


def _line_of(text: str, customer: str) -> int:
    at = text.find(json.dumps(customer))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _sim_truth(path: Path, text: str) -> dict[str, Truth]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"{path}:1: expected an object of customer id -> truth")
    truth: dict[str, Truth] = {}
    for customer, entry in raw.items():
        where = f"{path}:{_line_of(text, customer)}: customer {customer}"
        if not isinstance(entry, dict) or not isinstance(entry.get("persona"), str):
            raise ValueError(f"{where}: expected an object with a persona")
        dates: dict[str, date | None] = {}
        for key in ("signal_on", "lost_on"):
            value = entry.get(key)
            try:
                dates[key] = date.fromisoformat(value) if value is not None else None
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{where}: {key} {value!r} is not an ISO date (YYYY-MM-DD)") from exc
        truth[customer] = Truth(entry["persona"], dates["lost_on"], signal_on=dates["signal_on"])
    return truth


def _csv_truth(path: Path, text: str, observed_on: date | None) -> dict[str, Truth]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader, [])]
    if not {"customer_id", "churned"} <= set(header) or len(set(header)) != len(header):
        raise ValueError(
            f"{path}:1: expected a header customer_id,churned[,observed_on] (or a simulator truth.json), "
            f"found {','.join(header) or 'nothing'}"
        )
    column = {name: index for index, name in enumerate(header)}
    truth: dict[str, Truth] = {}
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if not row or row == [""]:
            continue
        if len(row) != len(header):
            raise ValueError(f"{where}: expected {len(header)} fields ({','.join(header)}), found {len(row)}")
        customer = row[column["customer_id"]].strip()
        if not customer:
            raise ValueError(f"{where}: empty customer_id")
        if customer in truth:
            raise ValueError(f"{where}: customer {customer} appears twice")
        churned = _CHURNED.get(row[column["churned"]].strip().lower())
        if churned is None:
            raise ValueError(f"{where}: churned is {row[column['churned']]!r}, expected 1, 0, true or false")
        truth[customer] = Truth(
            "", None, churned=churned, observed_on=_row_date(where, row, column, observed_on)
        )
    if not truth:
        raise ValueError(f"{path}: no customers after the header")
    return truth


def _row_date(where: str, row: list[str], column: dict[str, int], given: date | None) -> date:
    cell = row[column["observed_on"]].strip() if "observed_on" in column else ""
    if not cell:
        if given is None:
            raise ValueError(
                f"{where}: no observation date: add an observed_on column or give one (--observed-on)"
            )
        return given
    try:
        found = date.fromisoformat(cell)
    except ValueError as exc:
        raise ValueError(f"{where}: observed_on {cell!r} is not an ISO date (YYYY-MM-DD)") from exc
    if given is not None and found != given:
        raise ValueError(f"{where}: observed_on {found} disagrees with the observation date given ({given})")
    return found


def load_scores(path: Path) -> dict[str, CustomerScore]:
    """Read the scores file ``customer_id,probability,level,p_alive,reasons`` (with its header)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = tuple(name.strip() for name in next(reader, []))
    if header != SCORES_COLUMNS:
        raise ValueError(
            f"{path}:1: expected the header {','.join(SCORES_COLUMNS)}, found {','.join(header)}"
        )
    scores: dict[str, CustomerScore] = {}
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if not row or row == [""]:
            continue
        if len(row) != len(SCORES_COLUMNS):
            raise ValueError(f"{where}: expected {len(SCORES_COLUMNS)} fields, found {len(row)}")
        customer, probability, level, p_alive, reasons = (cell.strip() for cell in row)
        if not customer:
            raise ValueError(f"{where}: empty customer_id")
        if customer in scores:
            raise ValueError(f"{where}: customer {customer} appears twice")
        try:
            parsed_level = ChurnLevel(level) if level else None
        except ValueError as exc:
            names = "|".join(x.value for x in LEVEL_ORDER)
            raise ValueError(f"{where}: level {level!r} is not one of {names} or empty") from exc
        scores[customer] = CustomerScore(
            probability=_unit(where, "probability", probability),
            level=parsed_level,
            p_alive=_unit(where, "p_alive", p_alive),
            reasons=tuple(r for r in reasons.split(";") if r),
        )
    return scores


def _unit(where: str, name: str, cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise ValueError(f"{where}: {name} {cell!r} is not a number in [0, 1]")
    return value


# --- labels and ranking --------------------------------------------------------------------------


def is_labelled(truth: Mapping[str, Truth]) -> bool:
    """A CSV truth: labels and observation dates, no loss dates."""
    return bool(truth) and all(t.churned is not None for t in truth.values())


def labels_at(
    truth: Mapping[str, Truth], observed_on: date | None, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> dict[str, bool]:
    """Who had churned as of the end of ``observed_on``: lost by ``observed_on + horizon_days``
    (lost before it included), or the CSV's own label."""
    if horizon_days < 0:
        raise ValueError(f"the horizon must be 0 days or more, not {horizon_days}")
    labels: dict[str, bool] = {}
    for customer, entry in truth.items():
        if entry.churned is not None:
            labels[customer] = entry.churned
            continue
        if observed_on is None:
            raise ValueError("labelling the simulator's truth needs an observation date (--observed-on)")
        end = observed_on + timedelta(days=horizon_days)
        labels[customer] = entry.lost_on is not None and entry.lost_on <= end
    return labels


@dataclass(frozen=True, slots=True)
class LevelRanking:
    """Customers whose level in the scores file is ``level`` or above, against the labels."""

    level: ChurnLevel
    flagged: int
    true_positives: int
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        return f1_score(self.precision, self.recall)


@dataclass(frozen=True, slots=True)
class Ranking:
    """How well the scores file orders the customers by churn, as of the observation date."""

    observed_on: date | None  # None: the CSV truth's dates differ between customers
    horizon_days: int | None  # None: the labels are the CSV truth's
    customers: int  # in the truth and in the scores: the ones ranked
    churned: int
    not_scored: int  # in the truth, not in the scores (left out: not customers yet)
    not_in_truth: int  # in the scores, not in the truth (left out: no label)
    auroc: float | None  # None: one class only
    average_precision: float | None
    baseline_auroc: float | None  # of 1 - p_alive
    baseline_average_precision: float | None
    levels: tuple[LevelRanking, ...]

    @property
    def base_rate(self) -> float:
        return self.churned / self.customers if self.customers else 0.0


def _auroc_ap(labels: Sequence[bool], values: Sequence[float]) -> tuple[float | None, float | None]:
    if len(set(labels)) < 2:  # both are undefined (scikit-learn warns) without both classes
        return None, None
    # Imported here: scikit-learn takes a second to import, and replay workers never rank.
    from sklearn.metrics import average_precision_score, roc_auc_score

    return float(roc_auc_score(labels, values)), float(average_precision_score(labels, values))


def ranking(
    scores: Mapping[str, CustomerScore],
    truth: Mapping[str, Truth],
    observed_on: date | None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Ranking:
    """AUROC, average precision and per-level precision/recall of the scores against the labels at
    ``observed_on``; customers missing from either side are counted and left out."""
    labels = labels_at(truth, observed_on, horizon_days)
    ranked = sorted(c for c in labels if c in scores)
    y = [labels[c] for c in ranked]
    auroc, ap = _auroc_ap(y, [scores[c].probability for c in ranked])
    baseline_auroc, baseline_ap = _auroc_ap(y, [1.0 - scores[c].p_alive for c in ranked])
    churned = sum(y)
    levels = []
    for level in LEVEL_ORDER:
        flagged = [c for c in ranked if at_or_above(scores[c].level, level)]
        hits = sum(labels[c] for c in flagged)
        levels.append(
            LevelRanking(
                level,
                len(flagged),
                hits,
                hits / len(flagged) if flagged else 0.0,
                hits / churned if churned else 0.0,
            )
        )
    labelled = is_labelled(truth)
    dates = {_observed(t, observed_on) for t in truth.values()} if labelled else {observed_on}
    return Ranking(
        observed_on=dates.pop() if len(dates) == 1 else None,
        horizon_days=None if labelled else horizon_days,
        customers=len(ranked),
        churned=churned,
        not_scored=len(labels) - len(ranked),
        not_in_truth=sum(c not in labels for c in scores),
        auroc=auroc,
        average_precision=ap,
        baseline_auroc=baseline_auroc,
        baseline_average_precision=baseline_ap,
        levels=tuple(levels),
    )


# --- alerts and rules ----------------------------------------------------------------------------


def score(name: str, firings: Iterable[Firing], truth: Mapping[str, Truth], observed_days: float) -> Score:
    """Precision, recall, lead time and false-alarm rate of one set of firings."""
    first: dict[str, date] = {}
    false_alarms = 0
    for firing in firings:
        if firing.customer_id not in truth:
            continue
        if firing.customer_id not in first or firing.day < first[firing.customer_id]:
            first[firing.customer_id] = firing.day
        if not truth[firing.customer_id].lost:
            false_alarms += 1
    lost = {c for c, t in truth.items() if t.lost}
    hits = [c for c in first if c in lost]
    leads = tuple(
        sorted((lost_on - first[c]).days for c in hits if (lost_on := truth[c].lost_on) is not None)
    )
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
    alerts: Score  # at the flagging level (--min-level)
    rules: tuple[Score, ...]
    levels: tuple[Score, ...] = ()  # alerts at each level or above, watch to critical
    alerts_sent: int = 0  # every churn alert, whatever its level or customer
    customers: int = 0  # in the truth
    months: float = 0.0  # of history replayed, 30-day months
    window_days: int | None = None  # a CSV truth: alerts counted in these days up to the observation date
    ranking: Ranking | None = None  # with a scores file

    @property
    def alerts_per_customer_per_month(self) -> float:
        return self.alerts_sent / self.customers / self.months if self.customers and self.months else 0.0


def _observed(entry: Truth, observed_on: date | None) -> date:
    found = entry.observed_on or observed_on
    if found is None:
        raise ValueError("a labelled truth needs an observation date (--observed-on)")
    return found


def scorecard(
    alerts: Iterable[Firing],
    rule_firings: Iterable[Firing],
    truth: Mapping[str, Truth],
    observed_days: float,
    min_level: ChurnLevel = ChurnLevel.HIGH,
    *,
    scores: Mapping[str, CustomerScore] | None = None,
    observed_on: date | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
) -> Scorecard:
    """Score the alerts at each level (``min_level`` is the headline), every rule on its own and,
    given ``scores``, the ranking as of ``observed_on``.

    With a CSV truth (labels, no loss dates) only the alerts of the ``horizon_days`` up to each
    customer's observation date count, and rules count when they first held on or before it: what
    comes later is not a prediction."""
    if horizon_days < 0:
        raise ValueError(f"the horizon must be 0 days or more, not {horizon_days}")
    sent = list(alerts)
    judged, rules, days = sent, list(rule_firings), observed_days
    window: int | None = None
    if is_labelled(truth):
        window = horizon_days

        def until(firing: Firing, days_before: int | None) -> bool:
            entry = truth.get(firing.customer_id)
            if entry is None:
                return False
            end = _observed(entry, observed_on)
            return firing.day <= end and (
                days_before is None or firing.day > end - timedelta(days=days_before)
            )

        judged = [a for a in sent if until(a, horizon_days)]
        rules = [f for f in rules if until(f, None)]
        days = min(max(observed_days, 1.0), float(horizon_days))
    by_level = tuple(
        score(f"alerts >= {level.value}", [a for a in judged if at_or_above(a.level, level)], truth, days)
        for level in LEVEL_ORDER
    )
    by_rule: dict[str, list[Firing]] = {}
    for firing in rules:
        by_rule.setdefault(firing.name, []).append(firing)
    return Scorecard(
        alerts=by_level[LEVEL_ORDER.index(min_level)],
        rules=tuple(score(rule, found, truth, days) for rule, found in sorted(by_rule.items())),
        levels=by_level,
        alerts_sent=len(sent),
        customers=len(truth),
        months=max(observed_days, 1.0) / 30.0,
        window_days=window,
        ranking=None if scores is None else ranking(scores, truth, observed_on, horizon_days),
    )


# --- printing ------------------------------------------------------------------------------------


def _metric(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_scorecard(card: Scorecard) -> list[str]:
    """Fixed-width lines: the alerts per level, one line per rule, alerts per customer per month,
    then (with a scores file) the ranking."""
    lines = []
    if card.window_days is not None:
        lines.append(
            f"labels: the truth's churned column; alerts counted in the {card.window_days} days up to each "
            "customer's observed_on; no loss dates, so no lead times"
        )
    lines.append(
        f"{'':<38} {'flagged':>7} {'hits':>5} {'lost':>5} {'precision':>9} {'recall':>7} {'f1':>5} "
        f"{'lead q1/median/q3 (days)':>25} {'false alarms/1k/month':>22}"
    )
    for entry in (*(card.levels or (card.alerts,)), *card.rules):
        quartiles = entry.lead_quartiles()
        lead = "-" if quartiles is None else "/".join(f"{q:.0f}" for q in quartiles)
        name = f"{entry.name} (min level)" if card.levels and entry is card.alerts else entry.name
        lines.append(
            f"{name:<38} {entry.flagged:>7} {entry.true_positives:>5} {entry.lost:>5} "
            f"{entry.precision:>9.2f} {entry.recall:>7.2f} {entry.f1:>5.2f} {lead:>25} "
            f"{entry.false_alarms_per_1000_per_month:>22.1f}"
        )
    lines.append("")
    lines.append(
        f"churn alerts sent: {card.alerts_sent} to {card.customers} customers in the truth over "
        f"{card.months:.1f} months: {card.alerts_per_customer_per_month:.3f} per customer per month"
    )
    if card.ranking is not None:
        lines.extend(["", *format_ranking(card.ranking)])
    return lines


def format_ranking(rank: Ranking) -> list[str]:
    """The ranking block: AUROC and average precision of the probability and of 1 - p_alive, then
    precision, recall and F1 of each level as of the observation date."""
    as_of = "each customer's observed_on" if rank.observed_on is None else str(rank.observed_on)
    rule = (
        "the truth's churned column"
        if rank.horizon_days is None
        else f"lost by {as_of} + {rank.horizon_days} days"
    )
    lines = [
        f"ranking as of {as_of} (churned: {rule})",
        f"{rank.customers} customers ranked; left out: {rank.not_scored} in the truth but not scored, "
        f"{rank.not_in_truth} scored but not in the truth",
        f"{'':<38} {'customers':>9} {'churned':>7} {'base rate':>9} {'AUROC':>7} {'AP':>7}",
    ]
    for name, auroc, ap in (
        ("churn probability", rank.auroc, rank.average_precision),
        ("baseline 1 - p_alive", rank.baseline_auroc, rank.baseline_average_precision),
    ):
        lines.append(
            f"{name:<38} {rank.customers:>9} {rank.churned:>7} {rank.base_rate:>9.3f} "
            f"{_metric(auroc):>7} {_metric(ap):>7}"
        )
    head = f"{'flagged':>9} {'hits':>7} {'precision':>9} {'recall':>7} {'f1':>7}"
    lines.append(f"{'level in the scores file':<38} {head}")
    for level in rank.levels:
        lines.append(
            f"{'level >= ' + level.level.value:<38} {level.flagged:>9} {level.true_positives:>7} "
            f"{level.precision:>9.2f} {level.recall:>7.2f} {level.f1:>7.2f}"
        )
    return lines
