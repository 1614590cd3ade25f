"""The sharded replay (customers split over worker processes, each with its own Redis database)
gives the sequential replay's outputs and result on the same events: every output record byte for
byte, in the same order for every customer, and the same summary and scorecard inputs.

The history is a sparse one from the simulator (most customers quiet on most days, so silence
checks make most of the outputs), with dead letters (lines that are not JSON, an invalid event)
and an event delivered twice. Batches are small, so the watermark moves in many steps and every
customer is checked many times.

Rounds of silence checks take the default number of customers: the offer claims of a round are
grouped per customer (sinks/redis/lua/claim.lua), so who else is checked in the same round changes
nothing, and no split of customers can either.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import redis

from rules.load.ruleset import Ruleset
from schemas.catalog import DEAD_LETTERS
from streams.backtest.replay import ReplayOptions, ReplayResult, replay
from streams.backtest.run import shard_urls
from streams.backtest.shards import replay_sharded, shard_of
from streams.dev.embedded import EmbeddedRedis
from streams.settings import Settings
from streams.sim.generator import generate
from streams.sim.jsonl import write_jsonl
from streams.sim.scenario import Scenario

SCENARIO = Scenario(customers=40, days=120, seed=5, start=datetime(2025, 3, 1, tzinfo=UTC), active_share=0.15)
SETTINGS = Settings(batch_size=50)
SHARDS = 2


def _history(folder: Path) -> tuple[Path, ...]:
    write_jsonl(generate(SCENARIO), folder)
    transactions = folder / "transactions.jsonl"
    lines = transactions.read_bytes().splitlines(keepends=True)
    broken = [b"not json at all\n", b'{"customer_id": "C000003", "occurred_at": "2025-04-01T10:00:00Z"}\n']
    lines[len(lines) // 3 : len(lines) // 3] = broken
    lines.insert(len(lines) // 2, lines[len(lines) // 2 - 1])  # delivered twice, back to back
    transactions.write_bytes(b"".join(lines))
    return tuple(sorted(folder.glob("*.jsonl")))


def _by_customer(lines: list[bytes]) -> dict[str, list[bytes]]:
    grouped: dict[str, list[bytes]] = defaultdict(list)
    for line in lines:
        grouped[str(json.loads(line).get("customer_id"))].append(line)
    return dict(grouped)


def _outputs(folder: Path) -> dict[str, list[bytes]]:
    return {path.name: path.read_bytes().splitlines() for path in sorted(folder.glob("*.jsonl"))}


def test_the_sharded_replay_gives_the_sequential_replays_outputs(
    tmp_path: Path, redis_url: str, redis_server: EmbeddedRedis, ruleset: Ruleset
) -> None:
    files = _history(tmp_path / "history")
    sequential_out, sharded_out = tmp_path / "sequential", tmp_path / "sharded"
    options = ReplayOptions(files=files, redis_url=redis_url, settings=SETTINGS, out_dir=sequential_out)
    reference = asyncio.run(replay(options, ruleset))

    urls = shard_urls(redis_server.url.rsplit("/", 1)[0] + "/1", SHARDS)  # databases 1 and 2
    for url in urls:
        redis.Redis.from_url(url).flushdb()
    sharded_options = ReplayOptions(files=files, redis_url=urls[0], settings=SETTINGS, out_dir=sharded_out)
    fast = replay_sharded(sharded_options, ruleset, urls)

    expected, got = _outputs(sequential_out), _outputs(sharded_out)
    assert expected.keys() == got.keys()
    for topic, lines in expected.items():
        assert sorted(got[topic]) == sorted(lines), topic  # the same records, byte for byte
        assert _by_customer(got[topic]) == _by_customer(lines), topic  # each customer's in order
    _assert_same_result(fast, reference)

    # the test covers what it says: checks with outputs, dead letters, customers on both workers
    records = [json.loads(line) for topic in expected.values() for line in topic]
    assert any(str(o.get("trigger_event_id", "")).startswith("check:") for o in records)
    assert len(expected[f"{DEAD_LETTERS}.jsonl"]) == 2
    customers = {o["customer_id"] for o in records if "customer_id" in o}
    assert {shard_of(c.encode(), SHARDS) for c in customers} == set(range(SHARDS))
    assert reference.checks > 10 * SCENARIO.customers


def _assert_same_result(fast: ReplayResult, reference: ReplayResult) -> None:
    for name in ("events", "outputs", "evaluations", "customers", "first_firings", "checks"):
        assert getattr(fast, name) == getattr(reference, name), name
    assert (fast.first_ms, fast.last_ms, fast.out_of_order) == (
        reference.first_ms,
        reference.last_ms,
        reference.out_of_order,
    )
    alerts: dict[str, list[object]] = defaultdict(list)
    for firing in reference.alerts:
        alerts[firing.customer_id].append(firing)
    fast_alerts: dict[str, list[object]] = defaultdict(list)
    for firing in fast.alerts:
        fast_alerts[firing.customer_id].append(firing)
    assert fast_alerts == alerts
