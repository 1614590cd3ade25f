"""Where a worker's time goes: the pipeline (decode, profile update in Redis, rules, claims, output
records) over simulated events in-process, without Kafka, under pyinstrument (a sampling profiler,
so what it shows is not distorted by instrumenting every call).

Prints events/s of the pipeline alone and the profile; the end-to-end benchmark (bench/e2e.py)
says how much Kafka and Faust add on top.

Run: ``make bench-profile`` (or ``python -m bench.pipeline_profile --events 50000``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta
from itertools import islice

from pyinstrument import Profiler

from agents.decode import RawRecord
from agents.metrics import Metrics
from agents.pipeline import Pipeline, PipelineConfig
from rules.bgnbd import BgNbdParams
from rules.ruleset import load_ruleset
from sinks.profile.layout import DEDUPE_CAPACITY
from sinks.profile.store import ProfileStore, connect
from streams.embedded import EmbeddedRedis
from streams.settings import DEFAULT_CHURN_MODEL, DEFAULT_RULES_DIR
from streams.simulator import Scenario, generate


async def run_pipeline(redis_url: str, records: list[RawRecord], batch: int, profiler: Profiler) -> float:
    """Process ``records`` in batches as the worker does; seconds spent (profiled)."""
    ruleset = load_ruleset([DEFAULT_RULES_DIR])
    model = BgNbdParams.load(DEFAULT_CHURN_MODEL)
    config = PipelineConfig("SIGNALBANK", timedelta(days=1), churn_model=model)
    store = ProfileStore(connect(redis_url), 90, DEDUPE_CAPACITY)
    pipeline = Pipeline(store, lambda: ruleset, Metrics(), config)
    await pipeline.process(records[:batch])  # warm-up: scripts loaded, connections open
    profiler.start()
    started = time.perf_counter()
    for start in range(batch, len(records), batch):
        await pipeline.process(records[start : start + batch])
    elapsed = time.perf_counter() - started
    profiler.stop()
    await store.client.aclose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=500, help="Events per batch (the worker's default).")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    events = islice(generate(Scenario(customers=args.customers, days=60, seed=args.seed)), args.events)
    records = [RawRecord(e.topic, 0, i, e.key, e.value) for i, e in enumerate(events)]
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    with EmbeddedRedis() as server:
        elapsed = asyncio.run(run_pipeline(server.url, records, args.batch, profiler))
    timed = len(records) - args.batch
    print(
        f"pipeline alone: {timed:,} events in {elapsed:.1f}s = {timed / elapsed:,.0f} events/s "
        f"({elapsed / timed * 1e6:.0f} µs per event, Redis time included)"
    )
    print(profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total"))


if __name__ == "__main__":
    main()
