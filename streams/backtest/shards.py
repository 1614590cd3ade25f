"""Replay sharded by customer over worker processes, each with its own Redis, outputs merged in order.

Every customer's profile, cooldowns, offer log and silence check live under keys of that customer
alone, so customers can be replayed apart. Each worker reads every file (the same merged stream,
the same batches of ``batch_size`` records, the same watermark after each batch as the sequential
replay) but processes only its own customers' records, then runs the silence checks due by that
watermark on its own schedule. A record goes to the worker ``shard_of`` its key (the customer id
replay reads from the line; lines without one go to worker 0, which dead-letters them).

The workers' outputs are merged by where the sequential replay would emit them: batch by batch,
dead letters, then the events' outputs in input order, then the silence checks' outputs (by
customer within a batch: the sequential order of check rounds depends on the schedule's shards
and how takes rotate over them, which is not each worker's to know). So every output record is
the sequential replay's, byte for byte, and every customer's records come in the same order; only
checks of different customers after the same batch may be interleaved differently, as they may
be between two workers of the real deployment. The summary and the scorecard's inputs
(``ReplayResult``) are the sequential replay's too.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import multiprocessing
import pickle
import queue
import tempfile
import time
import traceback
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import orjson

from agents.checks import SilenceChecks
from agents.metrics import Metrics
from agents.outputs import OutputRecord
from agents.pipeline import Pipeline
from agents.trigger import Trigger
from rules.evaluate.engine import Evaluation
from rules.load.ruleset import Ruleset, load_sources
from schemas.catalog import CHURN_ALERTS
from schemas.outputs import ChurnAlert, DeadLetter
from streams.backtest.eventfiles import MergeStats, merged
from streams.backtest.replay import ReplayOptions, ReplayResult, Writers, at_ms, batches, run_checks
from streams.backtest.risk_scorecard import RiskFiring, risk_firing
from streams.backtest.scorecard import Firing
from streams.config import connect_redis, pipeline_config, timer_config

#: Where in the sequential replay an output or an evaluation comes:
#: (batch, phase, input offset, customer id, sequence within the worker).
#: Phases: dead letters, then events' outputs (at their event's offset), then silence checks.
OrderKey = tuple[int, int, int, bytes, int]
DEAD, EVENT, CHECK = 0, 1, 2


def shard_of(key: bytes | None, shards: int) -> int:
    """The worker replaying the customer ``key`` (CRC-32 of the id); lines without one: worker 0."""
    return 0 if key is None or shards == 1 else zlib.crc32(key) % shards


@dataclass(frozen=True, slots=True)
class ShardJob:
    """What one worker process replays: the options (its own Redis URL), the ruleset by its sources."""

    options: ReplayOptions
    sources: tuple[tuple[str, str], ...]
    version: str
    shard: int
    shards: int
    spool: Path  # the worker writes its outputs (pickled chunks, in order) and then its result here


@dataclass(frozen=True, slots=True)
class SpooledOutput:
    key: OrderKey
    topic: str
    line: bytes  # the encoded record (empty when no output files are written)
    alert: Firing | None
    risk: RiskFiring | None = None


@dataclass(slots=True)
class ShardResult:
    """One worker's share of the ``ReplayResult``; outputs are in its spool file."""

    result: ReplayResult
    first_keys: list[OrderKey] = field(default_factory=list)  # per entry of result.first_firings
    error: str = ""


class _Progress(Protocol):
    def put(self, item: tuple[int, int]) -> None: ...


async def replay_shard(job: ShardJob, progress: _Progress | None = None) -> ShardResult:
    """Replay this worker's customers: every batch of the merged files, checks after each batch."""
    ruleset = load_sources(job.sources)
    if ruleset.version != job.version:
        raise RuntimeError(f"ruleset {ruleset.version} rebuilt from the sources of {job.version}")
    options, me, shards = job.options, job.shard, job.shards
    settings = options.settings
    result = ReplayResult()
    shard = ShardResult(result)
    stats = MergeStats()
    watermark = [at_ms(0)]
    current: list[int] = [0]  # batch index
    offsets: dict[str, int] = {}  # event id -> offset of its first record in the batch
    redis = connect_redis(settings, options.redis_url)
    config = pipeline_config(settings, options.churn_model)
    cadence = timer_config(settings)
    metrics = Metrics()

    def observe(trigger: Trigger, evaluation: Evaluation) -> None:
        before = len(result.first_firings)
        result.record(trigger, evaluation)
        if len(result.first_firings) > before:
            key = _key_of_trigger(current[0], trigger, offsets)
            shard.first_keys.extend([key] * (len(result.first_firings) - before))

    pipeline = Pipeline(
        redis, lambda: ruleset, metrics, config, lambda: watermark[0], observe, event_time=options.checks
    )
    checks = SilenceChecks(pipeline, redis.schedule, metrics)
    write = options.out_dir is not None
    chunk: list[SpooledOutput] = []
    seq = [0]

    def emit_with(phase: int) -> Callable[[Sequence[OutputRecord]], None]:
        def emit(outputs: Sequence[OutputRecord]) -> None:
            for output in outputs:
                result.outputs[output.topic] += 1
                seq[0] += 1
                value = output.value
                if isinstance(value, DeadLetter):
                    key: OrderKey = (current[0], DEAD, value.source_offset, b"", seq[0])
                elif phase == CHECK:
                    key = (current[0], CHECK, 0, output.key, seq[0])
                else:
                    event_id = str(getattr(value, "trigger_event_id", ""))
                    key = (current[0], EVENT, offsets.get(event_id, 0), b"", seq[0])
                alert = None
                if output.topic == CHURN_ALERTS and isinstance(value, ChurnAlert):
                    alert = Firing(value.customer_id, value.occurred_at.date(), "alerts", value.level)
                line = output.encoded() if write else b""
                chunk.append(SpooledOutput(key, output.topic, line, alert, risk_firing(value)))

        return emit

    emit_events, emit_checks = emit_with(EVENT), emit_with(CHECK)
    gc.freeze()  # the ruleset and modules: never garbage, never scanned again
    bytes_read = 0
    try:
        with (job.spool / f"outputs-{me}.pickle").open("wb") as spool:
            for batch in batches(merged(list(options.files), stats), settings.batch_size):
                bytes_read += sum(len(record.value) + 1 for record in batch)
                mine = [record for record in batch if shard_of(record.key, shards) == me]
                count = len(batch)
                if result.first_ms == 0:
                    result.first_ms = stats.last_ms
                watermark[0] = at_ms(stats.last_ms)
                if mine:
                    offsets.clear()
                    for record in reversed(mine):
                        offsets[_event_id(record.value)] = record.offset
                    emit_events(await pipeline.process(mine))
                result.events += count
                if options.checks:
                    result.checks += await run_checks(checks, watermark[0], cadence, emit_checks)
                    pipeline.checked(watermark[0])
                if chunk:  # in the merge's order: check rounds come in the schedule's order
                    chunk.sort(key=_order)
                    pickle.dump(chunk, spool, protocol=pickle.HIGHEST_PROTOCOL)
                    chunk.clear()
                if progress is not None:
                    progress.put((bytes_read, result.events))
                current[0] += 1
    finally:
        await redis.aclose()
    result.last_ms = stats.last_ms
    result.out_of_order = dict(stats.out_of_order)
    return shard


def _order(output: SpooledOutput) -> OrderKey:
    return output.key


def _event_id(value: bytes) -> str:
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError:
        return ""
    return str(body.get("event_id", "")) if isinstance(body, dict) else ""


def _key_of_trigger(batch: int, trigger: Trigger, offsets: dict[str, int]) -> OrderKey:
    offset = offsets.get(trigger.event_id)
    if offset is None:  # a silence check ("check:<date>" is no event of the batch)
        return (batch, CHECK, 0, trigger.customer_id.encode(), 0)
    return (batch, EVENT, offset, b"", 0)


def _worker(job: ShardJob, progress: _Progress | None) -> None:
    """A worker process: replay, then leave the result beside the outputs (or the error)."""
    try:
        shard = asyncio.run(replay_shard(job, progress))
    except BaseException:  # reported by the parent, which knows what the run was
        shard = ShardResult(ReplayResult(), error=traceback.format_exc())
    with (job.spool / f"result-{job.shard}.pickle").open("wb") as handle:
        pickle.dump(shard, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _spooled(path: Path) -> Iterator[SpooledOutput]:
    with path.open("rb") as handle:
        while True:
            try:
                chunk: list[SpooledOutput] = pickle.load(handle)  # noqa: S301 (our own spool)
            except EOFError:
                return
            yield from chunk


def replay_sharded(
    options: ReplayOptions,
    ruleset: Ruleset,
    redis_urls: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Replay with one worker process per Redis URL (each an empty database of its own) and merge
    what they did into the sequential replay's outputs and result; ``progress`` as ``replay``'s."""
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no event loop, no threads
    shards = len(redis_urls)
    if shards < 1:
        raise ValueError("a sharded replay needs at least one Redis")
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="signalbank-replay-") as spool_dir:
        spool = Path(spool_dir)
        reports: multiprocessing.Queue[tuple[int, int]] = context.Queue()
        workers = []
        for index, url in enumerate(redis_urls):
            job = ShardJob(
                ReplayOptions(
                    files=options.files,
                    redis_url=url,
                    settings=options.settings,
                    churn_model=options.churn_model,
                    out_dir=options.out_dir,
                    checks=options.checks,
                ),
                ruleset.sources,
                ruleset.version,
                index,
                shards,
                spool,
            )
            worker = context.Process(target=_worker, args=(job, reports if index == 0 else None))
            worker.start()
            workers.append(worker)
        try:
            while any(worker.is_alive() for worker in workers):
                try:
                    read, events = reports.get(timeout=0.2)
                except queue.Empty:
                    continue
                if progress is not None:
                    progress(read, events)
        finally:
            for worker in workers:
                worker.join()
        parts = [_load_result(spool, index, worker.exitcode) for index, worker in enumerate(workers)]
        result = _merged(parts, options.out_dir, [spool / f"outputs-{i}.pickle" for i in range(shards)])
    result.seconds = time.perf_counter() - begun
    return result


def _load_result(spool: Path, index: int, exitcode: int | None) -> ShardResult:
    path = spool / f"result-{index}.pickle"
    if not path.exists():
        raise RuntimeError(f"replay worker {index} ended with exit code {exitcode} and no result")
    with path.open("rb") as handle:
        shard: ShardResult = pickle.load(handle)  # noqa: S301 (our own spool)
    if shard.error:
        raise RuntimeError(f"replay worker {index} failed:\n{shard.error}")
    return shard


def _merged(parts: Sequence[ShardResult], out_dir: Path | None, spools: Sequence[Path]) -> ReplayResult:
    """The workers' results as one: counts summed, firsts and alerts in the sequential order."""
    first = parts[0].result
    result = ReplayResult(
        events=first.events,
        first_ms=first.first_ms,
        last_ms=first.last_ms,
        out_of_order=first.out_of_order,
    )
    for part in parts:
        result.outputs.update(part.result.outputs)
        result.evaluations.update(part.result.evaluations)
        result.checks += part.result.checks
        for name, customers in part.result.customers.items():
            result.customers.setdefault(name, set()).update(customers)
    firsts = [
        (key, n, index, item)
        for index, part in enumerate(parts)
        for n, (key, item) in enumerate(zip(part.first_keys, part.result.first_firings.items(), strict=True))
    ]
    for _key, _n, _index, (name_customer, firing) in sorted(firsts, key=lambda f: (f[0], f[2], f[1])):
        result.first_firings[name_customer] = firing
    writers = Writers(out_dir)
    try:
        for output in heapq.merge(*(_spooled(path) for path in spools), key=_order):
            writers.write_line(output.topic, output.line)
            if output.alert is not None:
                result.alerts.append(output.alert)
            if output.risk is not None:
                result.risk_signals.append(output.risk)
    finally:
        writers.close()
    return result
