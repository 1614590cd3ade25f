"""The sharded replay: customers split by a stable hash, a worker's failure reported with its
traceback, and ``signalbank replay``'s run giving the sequential summary with two workers on a
database each (real Redis; the parity of every output is tests/integration/test_replay_parity.py)."""

from __future__ import annotations

import dataclasses
import zlib
from pathlib import Path

import pytest

from rules.load.ruleset import Ruleset
from streams.backtest.replay import ReplayOptions
from streams.backtest.run import BacktestRun, run_backtest, shard_urls
from streams.backtest.shards import replay_sharded, shard_of
from streams.settings import DEFAULT_RULES_DIR, Settings
from tests.unit.streams.backtest.test_replay import story_file


def test_a_customer_has_one_worker_and_lines_without_a_customer_go_to_the_first() -> None:
    assert shard_of(None, 4) == 0
    assert shard_of(b"C000001", 1) == 0
    assert shard_of(b"C000001", 3) == zlib.crc32(b"C000001") % 3
    assert {shard_of(f"C{n:06d}".encode(), 2) for n in range(20)} == {0, 1}


def test_workers_get_the_databases_after_the_urls_own() -> None:
    assert shard_urls("redis://host:6379/2", 3) == [
        "redis://host:6379/2",
        "redis://host:6379/3",
        "redis://host:6379/4",
    ]
    assert shard_urls("redis://host:6379", 2) == ["redis://host:6379/0", "redis://host:6379/1"]


def test_a_failing_worker_is_reported_with_its_traceback(
    tmp_path: Path, redis_url: str, ruleset: Ruleset
) -> None:
    options = ReplayOptions(files=(tmp_path / "missing.jsonl",), redis_url=redis_url, settings=Settings())
    with pytest.raises(RuntimeError, match=r"replay worker 0 failed:(.|\n)*FileNotFoundError"):
        replay_sharded(options, ruleset, [redis_url])


def test_two_workers_give_the_sequential_summary(tmp_path: Path, redis_url: str) -> None:
    run = BacktestRun(
        files=(story_file(tmp_path / "transactions.jsonl"),),
        rules_dirs=(DEFAULT_RULES_DIR,),
        out_dir=None,
        truth=None,
        redis_url=redis_url,
        flush=True,
        min_level="watch",
        checks=True,
        settings=Settings(batch_size=1, check_after_s=2 * 86_400.0),
        churn_model=None,
    )
    sequential: list[str] = []
    run_backtest(run, sequential.append)
    sharded: list[str] = []
    run_backtest(dataclasses.replace(run, shards=2), sharded.append)
    assert sharded[1:] == sequential[1:]  # the first line says how long it took
    assert sharded[0].split(" in ")[0] == sequential[0].split(" in ")[0]
