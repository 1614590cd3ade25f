"""What evaluating the default ruleset costs per event, on realistic profiles.

Profiles come from simulated bank traffic applied to a real (embedded) Redis, so the conditions
see the values they would see in production and take their real branches. The timed part is pure
CPU: ``rules.evaluate.engine.evaluate`` (one CEL call for the whole ruleset, then scoring, levels and the
contact policy). For comparison it also times building the profile from what Redis returned, and
the naive design the engine avoids: one CEL call per rule with the nested profile/event maps.

Run: ``make bench-rules`` (or ``python -m bench.rule_cost --customers 300 --days 120``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.decode import RawRecord, decode
from rules.evaluate.engine import evaluate
from rules.load.ruleset import Ruleset, load_ruleset
from schemas.outputs import DeadLetter
from schemas.profile.delta import build_update
from schemas.profile.view import build_event_context, build_profile
from sinks.redis.keys import TOPIC_CODES, kafka_position
from streams.config import connect_redis, pipeline_config
from streams.dev.embedded import EmbeddedRedis
from streams.settings import DEFAULT_RULES_DIR, Settings
from streams.sim.generator import generate
from streams.sim.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Sample:
    customer_id: str
    state: dict[str, str]
    sums: tuple[int, ...]
    now_ms: int
    profile: dict[str, Any]
    event: dict[str, Any]


async def collect(
    redis_url: str,
    scenario: Scenario,
    limit: int,
    settings: Settings,
    commit_batches: bool = False,
) -> list[Sample]:
    """Apply the simulated events to Redis in batches, the store and decoding configured from
    ``settings`` as a worker's; keep (profile, event) as the rules saw them.

    The last ``limit`` events are kept: by then profiles have months of history, as in production.
    ``commit_batches``: events carry Kafka positions and each batch finds the ones before it
    committed, as in a worker (it commits every second; a customer's events are hours apart), so
    the dedupe rings forget them as they would there.
    """
    config = pipeline_config(settings)
    redis = connect_redis(settings, redis_url)
    samples: list[Sample] = []
    batch: list[tuple[str, int, Any]] = []  # (topic, offset, event)
    now = datetime.now(UTC) + timedelta(days=1)

    async def flush() -> None:
        first = batch[0][1]
        committed = ",".join(f"{code}:0:{first}" for code in TOPIC_CODES.values()) if commit_batches else ""
        events = [event for _, _, event in batch]
        updates = [
            build_update(event, config.home_bank, kafka_position(topic, 0, offset) if commit_batches else "")
            for topic, offset, event in batch
        ]
        stored_profiles = await redis.profiles.apply(updates, committed)
        for event, update, stored in zip(events, updates, stored_profiles, strict=True):
            now_ms = max(update.ts_ms, int(stored.state.get("last_ts", update.ts_ms)))
            profile = build_profile(event.customer_id, stored.state, stored.sums, now_ms)
            context = build_event_context(event, config.home_bank)
            samples.append(Sample(event.customer_id, stored.state, stored.sums, now_ms, profile, context))
        batch.clear()

    for offset, sim in enumerate(generate(scenario)):
        if not sim.valid:
            continue
        result = decode(RawRecord(sim.topic, 0, offset, sim.key, sim.value), now, config.max_future)
        if isinstance(result, DeadLetter):
            continue
        batch.append((sim.topic, offset, result))
        if len(batch) >= 500:
            await flush()
            del samples[:-limit]
    if batch:
        await flush()
    await redis.aclose()
    return samples[-limit:]


def add_scenario_arguments(parser: argparse.ArgumentParser, events: int) -> None:
    """The simulated population the samples come from, and how many of its latest events to keep."""
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--events", type=int, default=events, help="Samples (the latest events).")


def simulated_samples(args: argparse.Namespace, settings: Settings) -> list[Sample]:
    """Samples of the scenario in ``args`` (see ``add_scenario_arguments``), on an embedded Redis
    configured as a worker with ``settings``."""
    server = EmbeddedRedis()
    server.start()
    try:
        scenario = Scenario(customers=args.customers, days=args.days, seed=args.seed)
        return asyncio.run(collect(server.url, scenario, args.events, settings))
    finally:
        server.stop()


def per_call_micros(samples: list[Sample], call: Callable[[Sample], object], rounds: int) -> list[float]:
    """Per-sample cost in microseconds: the best of ``rounds`` passes (least disturbed by the OS)."""
    best = [float("inf")] * len(samples)
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for i, sample in enumerate(samples):
            started = clock()
            call(sample)
            best[i] = min(best[i], (clock() - started) / 1000)
    return best


def naive(ruleset: Ruleset) -> Callable[[Sample], object]:
    """The design we avoid: each rule its own CEL call over the nested maps."""
    import cel

    programs = [cel.compile(c.source) for c in ruleset.conditions]

    def run(sample: Sample) -> object:
        context = {"profile": sample.profile, "event": sample.event}
        return [program.execute(context) for program in programs]

    return run


def report(name: str, figures: list[float]) -> None:
    ordered = sorted(figures)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"  {name:<34} mean {statistics.fmean(figures):7.1f} µs   "
        f"p50 {statistics.median(figures):7.1f} µs   p99 {p99:7.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scenario_arguments(parser, events=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--naive", action="store_true", help="Also time one CEL call per rule.")
    args = parser.parse_args()
    ruleset = load_ruleset([DEFAULT_RULES_DIR])
    samples = simulated_samples(args, Settings())
    fired = sum(1 for s in samples if evaluate(ruleset, s.profile, s.event).fired)
    print(
        f"rule cost: ruleset {ruleset.version}: {ruleset.rule_count} conditions "
        f"({len(ruleset.churn_rules)} churn, {len(ruleset.signal_rules)} signal, "
        f"{len(ruleset.offers)} offers) "
        f"reading {len(ruleset.fields)} fields"
    )
    print(
        f"  {len(samples)} events of {args.customers} simulated customers over {args.days} days; "
        f"churn rules fired on {fired} ({fired / max(1, len(samples)):.1%})"
    )
    report(
        "evaluate (whole ruleset, 1 CEL call)",
        per_call_micros(samples, lambda s: evaluate(ruleset, s.profile, s.event), args.rounds),
    )
    report(
        "build_profile (from Redis reply)",
        per_call_micros(
            samples, lambda s: build_profile(s.customer_id, s.state, s.sums, s.now_ms), args.rounds
        ),
    )
    if args.naive:
        report("naive: one CEL call per rule", per_call_micros(samples[:1000], naive(ruleset), 1))


if __name__ == "__main__":
    main()
