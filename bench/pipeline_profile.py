"""Where a worker's time goes: the pipeline (decode, profile update in Redis, rules, claims, output
records) over simulated events in-process, without Kafka, under pyinstrument (a sampling profiler,
so what it shows is not distorted by instrumenting every call).

Prints events/s of the pipeline alone, the time per event of each stage and the profile; the
end-to-end benchmark (bench/e2e.py) prints the same stages next to a target it misses, and says
how much Kafka and Faust add on top.

Run: ``make bench-profile`` (or ``python -m bench.pipeline_profile --events 50000``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

from pyinstrument import Profiler
from pyinstrument.frame import Frame

from agents.decode import RawRecord
from agents.metrics import Metrics
from agents.pipeline import Pipeline
from rules.load.ruleset import load_ruleset
from schemas.profile.bgnbd import BgNbdParams
from streams.config import connect_redis, pipeline_config
from streams.dev.embedded import EmbeddedRedis
from streams.settings import DEFAULT_CHURN_MODEL, DEFAULT_RULES_DIR, Settings
from streams.sim.event import SimEvent
from streams.sim.generator import generate
from streams.sim.scenario import Scenario

#: The pipeline's stages, by the function that does each (its first frame on a call path counts).
STAGES: tuple[tuple[str, str], ...] = (
    ("evaluate", "rules: the CEL call, its inputs, arbitration"),
    ("build_profile", "profile from the stored profile: windows, BG/NBD, value score"),
    ("apply", "profile update: applied in the worker, written back by compare-and-set"),
    ("decide", "claims (cooldowns, offers, tiers) and output records"),
    ("decode", "decode and validate the event (pydantic JSON)"),
    ("build_update", "the event's profile delta"),
    ("build_event_context", "the event map the rules read"),
    ("_schedule", "silence-check schedule (one ZADD per batch)"),
    ("epoll.poll", "waiting for Redis (the event loop idle)"),
)


@dataclass(frozen=True, slots=True)
class Stage:
    label: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Time per stage over ``events`` events (the remainder is labelled "other Python")."""

    events: int
    seconds: float
    stages: tuple[Stage, ...]

    @property
    def per_event_us(self) -> float:
        return self.seconds / self.events * 1e6 if self.events else 0.0

    def lines(self, indent: str = "  ") -> list[str]:
        """One line per stage: µs per event and share of the run, largest first."""
        return [
            f"{indent}{s.seconds / self.events * 1e6:7.0f} µs  {s.seconds / self.seconds:6.1%}  {s.label}"
            for s in sorted(self.stages, key=lambda s: -s.seconds)
        ]


def _stage_seconds(frame: Frame, names: dict[str, float]) -> None:
    """Add each frame's time to the first stage on its path; below a stage nothing counts twice."""
    if frame.function in names:
        names[frame.function] += frame.time
        return
    for child in frame.children:
        _stage_seconds(child, names)


def breakdown(root: Frame | None, events: int, seconds: float) -> Breakdown:
    """The stages of a profiled run of ``events`` events that took ``seconds`` of wall time."""
    found = dict.fromkeys((name for name, _ in STAGES), 0.0)
    if root is not None:
        _stage_seconds(root, found)
    stages = [Stage(label, found[name]) for name, label in STAGES]
    stages.append(Stage("other Python (batching, metrics, logging)", max(0.0, seconds - sum(found.values()))))
    return Breakdown(events, seconds, tuple(stages))


def records_of(events: Iterable[SimEvent]) -> list[RawRecord]:
    """Simulated events as the worker reads them (one partition, offsets in order)."""
    return [RawRecord(e.topic, 0, i, e.key, e.value) for i, e in enumerate(events)]


async def run_pipeline(
    settings: Settings, redis_url: str, records: Sequence[RawRecord], batch: int, profiler: Profiler
) -> float:
    """Process ``records`` in batches as a worker with ``settings`` does; seconds spent (profiled)."""
    ruleset = load_ruleset([DEFAULT_RULES_DIR])
    model = BgNbdParams.load(DEFAULT_CHURN_MODEL)
    config = pipeline_config(settings, model)
    redis = connect_redis(settings, redis_url)
    pipeline = Pipeline(redis, lambda: ruleset, Metrics(), config)
    await pipeline.process(records[:batch])  # warm-up: scripts loaded, connections open
    profiler.start()
    started = time.perf_counter()
    for start in range(batch, len(records), batch):
        await pipeline.process(records[start : start + batch])
    elapsed = time.perf_counter() - started
    profiler.stop()
    await redis.aclose()
    return elapsed


def profile_pipeline(
    settings: Settings, redis_url: str, records: Sequence[RawRecord], batch: int | None = None
) -> tuple[Profiler, Breakdown]:
    """Run the pipeline over ``records`` (the first batch warms up, untimed) under the profiler;
    ``batch`` events at a time, by default the worker's batch size."""
    batch = batch or settings.batch_size
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    elapsed = asyncio.run(run_pipeline(settings, redis_url, records, batch, profiler))
    session = profiler.last_session
    root = session.root_frame() if session is not None else None
    return profiler, breakdown(root, max(0, len(records) - batch), elapsed)


def main() -> None:
    settings = Settings()  # what a worker would run with (SIGNALBANK_*)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument(
        "--batch", type=int, default=settings.batch_size, help="Events per batch (SIGNALBANK_BATCH_SIZE)."
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    events = islice(generate(Scenario(customers=args.customers, days=60, seed=args.seed)), args.events)
    with EmbeddedRedis() as server:
        profiler, stages = profile_pipeline(settings, server.url, records_of(events), args.batch)
    rate = stages.events / stages.seconds
    print(
        f"pipeline alone: {stages.events:,} events in {stages.seconds:.1f}s = {rate:,.0f} events/s "
        f"({stages.per_event_us:.0f} µs per event, Redis time included)"
    )
    print("\n".join(stages.lines()))
    print(profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total"))


if __name__ == "__main__":
    main()
