"""Replay event files through the worker's own pipeline, without Kafka, to backtest a ruleset.

The same ``Pipeline`` the worker runs applies profile updates and evaluates rules against a real
Redis (embedded unless a URL is given). Time is event time throughout: the pipeline's clock is the
replay's watermark (the latest event time read so far), and after every batch the silence checks
that are due by the watermark run, as the worker's timer runs them by the wall clock. Outputs are
written in exactly the shape of the output topics, one JSONL file per topic.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import IO

from agents.checks import SilenceChecks
from agents.decode import RawRecord
from agents.metrics import Metrics
from agents.outputs import OutputRecord
from agents.pipeline import Pipeline
from agents.timer import TimerConfig
from agents.trigger import Trigger
from rules.evaluate.engine import Evaluation
from rules.load.ruleset import Ruleset
from schemas.catalog import CHURN_ALERTS, DEAD_LETTERS, OUTPUT_TOPICS
from schemas.outputs import ChurnAlert
from schemas.profile.bgnbd import BgNbdParams
from streams.backtest.eventfiles import MergeStats, merged
from streams.backtest.risk_scorecard import RiskFiring, risk_firing
from streams.backtest.scorecard import Firing
from streams.config import connect_redis, pipeline_config, timer_config
from streams.settings import Settings

#: A customer is "judged not alive" by the model below this p_alive (scored beside the rules).
P_ALIVE_THRESHOLD = 0.3
MODEL_NAME = f"model: p_alive < {P_ALIVE_THRESHOLD}"


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """What to replay, and the worker's settings: everything the pipeline, the store and the checks
    are configured with comes from them (streams/config.py), so a backtest runs as the worker would."""

    files: tuple[Path, ...]
    redis_url: str
    settings: Settings
    churn_model: BgNbdParams | None = None
    out_dir: Path | None = None
    checks: bool = True  # run silence checks by the watermark (off only for parity with a worker)


@dataclass(slots=True)
class ReplayResult:
    events: int = 0
    outputs: Counter[str] = field(default_factory=Counter)
    evaluations: Counter[str] = field(default_factory=Counter)  # rule id -> times its condition held
    customers: dict[str, set[str]] = field(default_factory=dict)  # rule id -> customers it held for
    alerts: list[Firing] = field(default_factory=list)  # every churn alert sent
    risk_signals: list[RiskFiring] = field(default_factory=list)  # every risk signal sent
    first_firings: dict[tuple[str, str], Firing] = field(default_factory=dict)  # (rule, customer) -> first
    first_ms: int = 0
    last_ms: int = 0
    seconds: float = 0.0
    checks: int = 0
    out_of_order: dict[str, int] = field(default_factory=dict)

    @property
    def observed_days(self) -> float:
        return max(0.0, (self.last_ms - self.first_ms) / 86_400_000)

    def record(self, trigger: Trigger, evaluation: Evaluation) -> None:
        """Remember which rules held, for the summary and the per-rule scorecard."""
        day = trigger.occurred_at.date()
        held = [f.rule.id for f in (*evaluation.fired, *evaluation.signals)]
        held.extend(o.id for o in evaluation.offers)
        p_alive = evaluation.context["profile"].get("p_alive", 1.0)
        if isinstance(p_alive, float) and p_alive < P_ALIVE_THRESHOLD:
            held.append(MODEL_NAME)
        for name in held:
            self.evaluations[name] += 1
            self.customers.setdefault(name, set()).add(trigger.customer_id)
            key = (name, trigger.customer_id)
            if key not in self.first_firings:
                self.first_firings[key] = Firing(trigger.customer_id, day, name)


class Writers:
    """One JSONL file per output topic, opened lazily."""

    def __init__(self, out_dir: Path | None) -> None:
        self._dir = out_dir
        self._files: dict[str, IO[bytes]] = {}
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)

    def write(self, output: OutputRecord) -> None:
        if self._dir is not None:
            self.write_line(output.topic, output.encoded())

    def write_line(self, topic: str, line: bytes) -> None:
        """One encoded record of ``topic`` (a sharded replay's workers encoded it)."""
        if self._dir is None:
            return
        handle = self._files.get(topic)
        if handle is None:
            handle = self._files[topic] = (self._dir / f"{topic}.jsonl").open("wb")
        handle.write(line + b"\n")

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()


def batches(records: Iterator[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    """The records in batches of ``size``, as the worker takes them (the sharded replay cuts the
    same ones: its outputs depend on where batches end)."""
    while batch := list(islice(records, size)):
        yield batch


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


async def replay(
    options: ReplayOptions, ruleset: Ruleset, progress: Callable[[int, int], None] | None = None
) -> ReplayResult:
    """Run the files through the pipeline; ``progress(bytes read, events)`` is called per batch."""
    result = ReplayResult()
    stats = MergeStats()
    watermark = [datetime(2000, 1, 1, tzinfo=UTC)]
    settings = options.settings
    redis = connect_redis(settings, options.redis_url)
    config = pipeline_config(settings, options.churn_model)
    cadence = timer_config(settings)
    metrics = Metrics()
    pipeline = Pipeline(
        redis,
        lambda: ruleset,
        metrics,
        config,
        lambda: watermark[0],
        result.record,
        event_time=options.checks,
    )
    checks = SilenceChecks(pipeline, redis.schedule, metrics)
    writers = Writers(options.out_dir)
    started = asyncio.get_running_loop().time()
    bytes_read = 0

    def emit(outputs: Sequence[OutputRecord]) -> None:
        for output in outputs:
            result.outputs[output.topic] += 1
            writers.write(output)
            if output.topic == CHURN_ALERTS and isinstance(output.value, ChurnAlert):
                alert = output.value
                result.alerts.append(
                    Firing(alert.customer_id, alert.occurred_at.date(), "alerts", alert.level)
                )
            elif (risk := risk_firing(output.value)) is not None:
                result.risk_signals.append(risk)

    try:
        for batch in batches(merged(list(options.files), stats), settings.batch_size):
            bytes_read += sum(len(record.value) + 1 for record in batch)
            if result.first_ms == 0:
                result.first_ms = stats.last_ms
            watermark[0] = at_ms(stats.last_ms)
            emit(await pipeline.process(batch))
            result.events += len(batch)
            if options.checks:
                result.checks += await run_checks(checks, watermark[0], cadence, emit)
                pipeline.checked(watermark[0])
            if progress is not None:
                progress(bytes_read, result.events)
    finally:
        writers.close()
        await redis.aclose()
    result.last_ms = stats.last_ms
    result.seconds = asyncio.get_running_loop().time() - started
    result.out_of_order = dict(stats.out_of_order)
    return result


async def run_checks(
    checks: SilenceChecks, now: datetime, cadence: TimerConfig, emit: Callable[[Sequence[OutputRecord]], None]
) -> int:
    """Every silence check due by the watermark, as the worker's timer does by the wall clock
    (in rounds of the timer's size, under its lease)."""

    async def deliver(outputs: Sequence[OutputRecord]) -> None:
        emit(outputs)

    checked = 0
    while True:
        done = await checks.round(now, cadence.batch, cadence.lease, deliver)
        if not done.taken:
            return checked
        checked += done.taken


def summary_lines(result: ReplayResult, ruleset: Ruleset) -> list[str]:
    """Per rule how often it held and for how many customers; per output topic the count."""
    rate = result.events / result.seconds if result.seconds else 0.0
    first, last = at_ms(result.first_ms).date(), at_ms(result.last_ms).date()
    lines = [
        f"replayed {result.events} events from {first} to {last} in {result.seconds:.1f}s "
        f"({rate:,.0f} events/s), ruleset {ruleset.version}, {result.checks} silence checks",
    ]
    for name, count in result.out_of_order.items():
        lines.append(f"warning: {count} lines of {name} go back in time (processed where they stand)")
    lines.append("")
    lines.append(f"{'rule':<40} {'held':>9} {'customers':>10}")
    names = [c.rule_id for c in ruleset.conditions] + (
        [MODEL_NAME] if MODEL_NAME in result.evaluations else []
    )
    for name in names:
        lines.append(f"{name:<40} {result.evaluations[name]:>9} {len(result.customers.get(name, ())):>10}")
    lines.append("")
    lines.append(f"{'output topic':<40} {'records':>9}")
    for topic in (*OUTPUT_TOPICS,):
        if topic != DEAD_LETTERS or result.outputs[topic]:
            lines.append(f"{topic:<40} {result.outputs[topic]:>9}")
    return lines


def churn_firings(result: ReplayResult, ruleset: Ruleset) -> list[Firing]:
    """First firing per customer of every churn rule and of the model, for the scorecard."""
    names = {r.id for r in ruleset.churn_rules} | {MODEL_NAME}
    return [f for (name, _), f in result.first_firings.items() if name in names]
