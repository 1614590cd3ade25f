"""The risk scorecard: what a bank's fraud team judges of a ruleset's risk signals, against the truth.

Pure functions over the risk signals a replay sent and the simulator's fraud episodes
(``truth.json``'s ``fraud`` entries, streams/sim/truth.py):

* an episode is **detected** when a risk signal about its customer was triggered at or after the
  episode's start and at or before its first fraudulent high-value event (the money can still be
  held); **found late** when the first signal came after that event but within the episode's
  window;
* **time to signal**: from the episode's start to its first signal, and from the high-value
  event to it (negative: before the money moved), over the episodes with a signal in their window;
* an episode's **window** runs from its start to a day after its last fraudulent event (what the
  fraud does to the profile, e.g. the customer's own login at home after the fraudster's abroad,
  is part of it); a risk signal outside every window of its customer is a **false** one, counted
  per 1,000 customers (all of the truth's) per day of history judged;
* per rule (every reason of a signal, or its rule when it has no reasons): signals, those in an
  episode window, false ones, and episodes it detected in time; false signals are also told apart
  by the look-alike the customer was living (a new phone, a stay abroad, a large payment).

The days before ``warmup`` (from ``first``: the replay's first watermark, the end of its first
batch) are left out: there the profile does not
know the customer's devices, countries and payees yet, which a bank going live would have loaded.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from schemas.outputs import CustomerSignal, RiskSignal, SignalKind

EPISODE_GRACE: Final = timedelta(days=1)
"""How long after its last fraudulent event a signal still belongs to an episode."""
LOOKALIKE_GRACE: Final = timedelta(days=7)
"""How long after a look-alike (a new phone, coming home) a false signal is put down to it."""


@dataclass(frozen=True, slots=True)
class RiskFiring:
    """A risk signal sent: about whom, why (its rules) and when (its trigger's event time)."""

    customer_id: str
    rule_id: str
    trigger_event_id: str
    occurred_at: datetime
    rules: tuple[str, ...] = ()
    """Every rule that held for the trigger (the signal's reasons); empty: ``rule_id`` alone."""

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.rules or (self.rule_id,)


def risk_firing(value: object) -> RiskFiring | None:
    """The firing of an output record's value when it is a risk signal (a ``RiskSignal``, or a
    ``CustomerSignal`` of kind risk as sent before contract 1.4.0); None otherwise."""
    if isinstance(value, RiskSignal):
        rules = tuple(reason.rule_id for reason in value.reasons)
        return RiskFiring(value.customer_id, value.rule_id, value.trigger_event_id, value.occurred_at, rules)
    if isinstance(value, CustomerSignal) and value.kind == SignalKind.RISK:
        return RiskFiring(value.customer_id, value.rule_id, value.trigger_event_id, value.occurred_at)
    return None


@dataclass(frozen=True, slots=True)
class FraudEpisode:
    customer_id: str
    kind: str
    start: datetime
    first_high_value: str
    first_high_value_at: datetime
    end: datetime
    event_ids: frozenset[str] = frozenset()

    def window_end(self) -> datetime:
        return self.end + EPISODE_GRACE


@dataclass(frozen=True, slots=True)
class LookAlike:
    customer_id: str
    kind: str
    on: date
    until: date


@dataclass(frozen=True, slots=True)
class RiskTruth:
    """The simulator's fraud truth: every customer (the denominator), episodes and look-alikes."""

    customers: int
    episodes: tuple[FraudEpisode, ...]
    lookalikes: tuple[LookAlike, ...] = ()


def load_risk_truth(path: Path) -> RiskTruth:
    """Read the fraud episodes and look-alikes of the simulator's ``truth.json``."""
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"{path}:1: expected an object of customer id -> truth")
    return risk_truth_of(raw, str(path))


def risk_truth_of(raw: Mapping[str, Any], where: str = "truth") -> RiskTruth:
    """The risk truth of a parsed ``truth.json`` (or of ``ground_truth``'s dict: dates or strings)."""
    episodes: list[FraudEpisode] = []
    lookalikes: list[LookAlike] = []
    for customer, entry in raw.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: customer {customer}: expected an object")
        try:
            for item in entry.get("fraud", ()):
                episodes.append(
                    FraudEpisode(
                        customer,
                        str(item["kind"]),
                        _instant(item["start"]),
                        str(item["first_high_value"]),
                        _instant(item["first_high_value_at"]),
                        _instant(item["end"]),
                        frozenset(str(i) for i in item.get("event_ids", ())),
                    )
                )
            for item in entry.get("lookalikes", ()):
                look = LookAlike(customer, str(item["kind"]), _day(item["on"]), _day(item["until"]))
                lookalikes.append(look)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: customer {customer}: bad fraud or lookalikes entry: {exc}") from exc
    return RiskTruth(len(raw), tuple(episodes), tuple(lookalikes))


def _instant(value: object) -> datetime:
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if found.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return found


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    episode: FraudEpisode
    first_signal: RiskFiring | None
    """The first risk signal in the episode's window."""
    detected: bool
    """A signal at or before the first fraudulent high-value event."""


@dataclass(frozen=True, slots=True)
class RuleCounts:
    rule_id: str
    signals: int = 0
    in_episodes: int = 0
    false: int = 0
    detected: int = 0
    """Episodes whose first in-time signal had this rule among its reasons."""


@dataclass(frozen=True, slots=True)
class RiskScorecard:
    customers: int
    days: float
    """Days of history judged (after the warm-up)."""
    episodes: tuple[EpisodeResult, ...]
    signals: int
    false_signals: int
    rules: tuple[RuleCounts, ...]
    false_by_lookalike: Mapping[str, int] = field(default_factory=dict)
    left_out_signals: int = 0
    """Signals in the warm-up."""
    left_out_episodes: int = 0
    """Episodes starting in the warm-up."""

    @property
    def detected(self) -> int:
        return sum(e.detected for e in self.episodes)

    @property
    def detection_rate(self) -> float:
        return self.detected / len(self.episodes) if self.episodes else 0.0

    @property
    def found(self) -> int:
        return sum(e.first_signal is not None for e in self.episodes)

    @property
    def false_per_1000_per_day(self) -> float:
        if not self.customers or self.days <= 0:
            return 0.0
        return self.false_signals / self.customers * 1000 / self.days

    def minutes_from_start(self) -> list[float]:
        return sorted(
            (e.first_signal.occurred_at - e.episode.start).total_seconds() / 60
            for e in self.episodes
            if e.first_signal is not None
        )

    def minutes_from_high_value(self) -> list[float]:
        return sorted(
            (e.first_signal.occurred_at - e.episode.first_high_value_at).total_seconds() / 60
            for e in self.episodes
            if e.first_signal is not None
        )

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """Per episode kind: (detected in time, episodes)."""
        counts: dict[str, tuple[int, int]] = {}
        for result in self.episodes:
            hit, total = counts.get(result.episode.kind, (0, 0))
            counts[result.episode.kind] = (hit + result.detected, total + 1)
        return dict(sorted(counts.items()))


def risk_scorecard(
    signals: Iterable[RiskFiring],
    truth: RiskTruth,
    first: datetime,
    last: datetime,
    *,
    warmup: timedelta = timedelta(0),
) -> RiskScorecard:
    """Score the risk signals of a replay of ``first`` .. ``last`` (event time) against the truth."""
    since = first + warmup
    sent = sorted(signals, key=lambda s: (s.occurred_at, s.customer_id, s.trigger_event_id))
    judged = [s for s in sent if s.occurred_at >= since]
    episodes = [e for e in truth.episodes if e.start >= since]
    by_customer: dict[str, list[FraudEpisode]] = {}
    for episode in episodes:
        by_customer.setdefault(episode.customer_id, []).append(episode)
    everyone: dict[str, list[FraudEpisode]] = {}
    for episode in truth.episodes:
        everyone.setdefault(episode.customer_id, []).append(episode)

    results = []
    first_in_time: dict[FraudEpisode, RiskFiring] = {}
    for episode in episodes:
        mine = [
            s
            for s in judged
            if s.customer_id == episode.customer_id and episode.start <= s.occurred_at <= episode.window_end()
        ]
        found = mine[0] if mine else None
        detected = found is not None and found.occurred_at <= episode.first_high_value_at
        if detected and found is not None:
            first_in_time[episode] = found
        results.append(EpisodeResult(episode, found, detected))

    looks: dict[str, list[LookAlike]] = {}
    for look in truth.lookalikes:
        looks.setdefault(look.customer_id, []).append(look)
    counts: dict[str, Counter[str]] = {}
    false_by_lookalike: Counter[str] = Counter()
    false = 0
    for signal in judged:
        inside = any(
            e.start <= signal.occurred_at <= e.window_end() for e in everyone.get(signal.customer_id, ())
        )
        if not inside:
            false += 1
            day = signal.occurred_at.date()
            living = sorted(
                {
                    look.kind
                    for look in looks.get(signal.customer_id, ())
                    if look.on <= day <= look.until + LOOKALIKE_GRACE
                }
            )
            false_by_lookalike["+".join(living) or "none"] += 1
        for rule in signal.reasons:
            tally = counts.setdefault(rule, Counter())
            tally["signals"] += 1
            tally["in_episodes" if inside else "false"] += 1
    for found in first_in_time.values():
        for rule in found.reasons:
            counts.setdefault(rule, Counter())["detected"] += 1
    rules = tuple(
        RuleCounts(rule, c["signals"], c["in_episodes"], c["false"], c["detected"])
        for rule, c in sorted(counts.items())
    )
    days = max(0.0, (last - since).total_seconds() / 86_400)
    return RiskScorecard(
        customers=truth.customers,
        days=days,
        episodes=tuple(results),
        signals=len(judged),
        false_signals=false,
        rules=rules,
        false_by_lookalike=dict(sorted(false_by_lookalike.items())),
        left_out_signals=len(sent) - len(judged),
        left_out_episodes=len(truth.episodes) - len(episodes),
    )


def _quartiles(values: Sequence[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.0f}/{values[0]:.0f}/{values[0]:.0f}"
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f"{q1:.0f}/{q2:.0f}/{q3:.0f}"


def format_risk_scorecard(card: RiskScorecard) -> list[str]:
    """Fixed-width lines: episodes detected (in all and per kind), time to signal, false signals, rules."""
    lines = [
        f"risk scorecard: {len(card.episodes)} fraud episodes, {card.customers} customers, "
        f"{card.days:.1f} days judged"
        + (
            f" (warm-up left out: {card.left_out_signals} signals, {card.left_out_episodes} episodes)"
            if card.left_out_signals or card.left_out_episodes
            else ""
        ),
        f"{'':<38} {'episodes':>8} {'detected':>8} {'rate':>6} {'found late':>10}",
        f"{'all episodes':<38} {len(card.episodes):>8} {card.detected:>8} {card.detection_rate:>6.2f} "
        f"{card.found - card.detected:>10}",
    ]
    for kind, (hit, total) in card.by_kind().items():
        found = sum(e.first_signal is not None for e in card.episodes if e.episode.kind == kind)
        lines.append(f"{kind:<38} {total:>8} {hit:>8} {hit / total:>6.2f} {found - hit:>10}")
    lines.append(
        f"time to signal, minutes q1/median/q3: from the start {_quartiles(card.minutes_from_start())}, "
        f"from the first high-value event {_quartiles(card.minutes_from_high_value())} (negative: before it)"
    )
    lines.append(
        f"risk signals: {card.signals}, false {card.false_signals}: "
        f"{card.false_per_1000_per_day:.2f} per 1,000 customers per day"
    )
    if card.false_by_lookalike:
        lines.append(
            "false signals by the look-alike the customer was living: "
            + ", ".join(f"{kind} {count}" for kind, count in card.false_by_lookalike.items())
        )
    lines.append(
        f"{'rule':<38} {'signals':>8} {'episodes':>8} {'false':>6} {'detected':>8} {'false/1k/day':>12}"
    )
    for rule in card.rules:
        rate = rule.false / card.customers * 1000 / card.days if card.customers and card.days > 0 else 0.0
        lines.append(
            f"{rule.rule_id:<38} {rule.signals:>8} {rule.in_episodes:>8} {rule.false:>6} "
            f"{rule.detected:>8} {rate:>12.2f}"
        )
    return lines
