"""Replay speed on a sparse long history: the sequential replay against the sharded one, same run.

A bank's history is mostly quiet customers: the simulator plays only ``--active-share`` of each
customer's days (a few events per customer per month), so the silence checks of quiet customers
make most of the work. Both replays run on the same files with the settings of the environment
(``SIGNALBANK_*``, as ``signalbank replay``), each on embedded Redis servers of its own: the
sequential one (``streams/backtest/replay.py``, one Redis) and the sharded one
(``streams/backtest/shards.py``, one worker process and one Redis per shard). It prints each one's
events per second, the ratio, and whether their outputs are the same records in the same order for
every customer.

Run: ``python -m bench.replay_speed`` (about two minutes; ``--customers 10000`` for a bank-sized history,
``--history DIR`` keeps the generated files and reuses them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rules.load.ruleset import load_ruleset
from streams.backtest.replay import ReplayOptions, ReplayResult, replay
from streams.backtest.shards import replay_sharded
from streams.dev.embedded import EmbeddedRedis
from streams.runtime import load_churn_model
from streams.settings import Settings
from streams.sim.generator import generate
from streams.sim.jsonl import write_jsonl
from streams.sim.scenario import Scenario


def history(folder: Path, scenario: Scenario) -> tuple[Path, ...]:
    """The scenario's JSONL files in ``folder``, generated unless they are there already."""
    files = tuple(sorted(folder.glob("*.jsonl")))
    if not files:
        write_jsonl(generate(scenario), folder)
        files = tuple(sorted(folder.glob("*.jsonl")))
    return files


def run_sequential(files: tuple[Path, ...], settings: Settings, out_dir: Path) -> ReplayResult:
    ruleset = load_ruleset([settings.rules_dir])
    with EmbeddedRedis() as server:
        options = ReplayOptions(files, server.url, settings, load_churn_model(settings.churn_model), out_dir)
        return asyncio.run(replay(options, ruleset))


def run_sharded(files: tuple[Path, ...], settings: Settings, out_dir: Path, shards: int) -> ReplayResult:
    ruleset = load_ruleset([settings.rules_dir])
    servers = [EmbeddedRedis().start() for _ in range(shards)]
    try:
        urls = [server.url for server in servers]
        options = ReplayOptions(files, urls[0], settings, load_churn_model(settings.churn_model), out_dir)
        return replay_sharded(options, ruleset, urls)
    finally:
        for server in servers:
            server.stop()


def differences(expected: Path, got: Path) -> list[str]:
    """Output files whose records differ, or differ in order for some customer."""
    names = sorted({p.name for p in expected.glob("*.jsonl")} | {p.name for p in got.glob("*.jsonl")})
    differing = []
    for name in names:
        a, b = _lines(expected / name), _lines(got / name)
        if sorted(a) != sorted(b) or _by_customer(a) != _by_customer(b):
            differing.append(f"{name} ({len(a)} records against {len(b)})")
    return differing


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


def _by_customer(lines: Sequence[bytes]) -> dict[str, list[bytes]]:
    grouped: dict[str, list[bytes]] = defaultdict(list)
    for line in lines:
        grouped[str(json.loads(line).get("customer_id"))].append(line)
    return dict(grouped)


def _line(label: str, result: ReplayResult) -> str:
    rate = result.events / result.seconds if result.seconds else 0.0
    return f"{label:<22} {result.seconds:>9.1f} s {rate:>10,.0f} events/s  {result.checks:>10,} checks"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--customers", type=int, default=1000)
    add("--days", type=int, default=540, help="Days of history (540: 18 months).")
    add("--active-share", type=float, default=0.05, help="Share of each customer's days played.")
    add("--seed", type=int, default=7)
    add("--shards", type=int, default=os.cpu_count() or 2, help="Worker processes (default: cores).")
    add("--history", type=Path, default=None, help="Keep (or reuse) the generated files here.")
    args = parser.parse_args(argv)
    settings = Settings()
    scenario = Scenario(
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        start=datetime(2025, 1, 1, tzinfo=UTC),
        active_share=args.active_share,
    )
    with tempfile.TemporaryDirectory(prefix="replay-speed-") as scratch:
        folder = args.history or Path(scratch) / "history"
        files = history(folder, scenario)
        sequential = run_sequential(files, settings, Path(scratch) / "sequential")
        sharded = run_sharded(files, settings, Path(scratch) / "sharded", args.shards)
        differing = differences(Path(scratch) / "sequential", Path(scratch) / "sharded")
    days = sequential.observed_days
    print(
        f"history: {sequential.events:,} events of {args.customers:,} customers over {days:.0f} days "
        f"({sequential.events / args.customers / max(days / 30, 1):.1f} events per customer per month), "
        f"batches of {settings.batch_size}, check rounds of {settings.check_batch}"
    )
    print(_line("sequential replay", sequential))
    print(_line(f"sharded, {args.shards} workers", sharded))
    ratio = sharded.events / sharded.seconds / (sequential.events / sequential.seconds)
    print(f"ratio: {ratio:.2f}x")
    if differing:
        print("outputs differ: " + ", ".join(differing))
        print("(offers of silence checks share one capacity per check round: docs/backtesting.md)")
    else:
        print("outputs: the same records, in the same order for every customer")


if __name__ == "__main__":
    main()
