"""End-to-end benchmark: one machine, the embedded broker and Redis, a pre-produced backlog.

In one run, on the same backlog and machine:

1. **Faust consume-only** (bench/faust_consume.py): Faust's default settings, decode and count.
   Faust's own ceiling for these topics.
   **Faust take_events floor** (bench/faust_take.py): the worker's own Faust app taking the worker's
   batches (same size and window) and doing nothing with them: the framework's floor under ours.
2. **signalbank, 1 worker**: the real worker (``signalbank worker``) over the whole backlog (its
   capacity), then **latency** at offered rates, 20 s each: 2,000 events/s, then half the capacity
   just measured. Latency is event sent -> output record written (Kafka timestamps of the outputs
   against the send time of the events that triggered them). **Redis work per event** for the
   backlog and for each rate: ``CONFIG RESETSTAT`` before, ``INFO commandstats`` after.
3. **signalbank, 2 workers** in one consumer group over the same backlog (fresh group, empty Redis),
   with its own Redis work per event. Then **1 worker on a local Redis Cluster** (3 masters,
   streams/dev/cluster.py; fresh group, empty cluster): its rate and Redis work per event on each
   master. Where the worker cannot run on the cluster, the step says why and the benchmark goes on.
4. **Per-event baseline** (bench/per_event.py): one Redis round trip and one CEL call per rule for
   every event (on the first ``--per-event-events`` events: it is slow).
5. **Redis memory per profile**: simulated customers with months of history applied to an empty
   Redis as a worker would (each batch finds the events before it committed, so dedupe rings keep
   only what Kafka could still redeliver), then ``MEMORY USAGE`` of every key of each customer,
   summed by the key's suffix (``sb:{id}:<suffix>``), whatever the suffixes are.
6. **Where one worker's time goes** (bench/pipeline_profile.py): the pipeline alone, without Kafka,
   over the start of the backlog under pyinstrument; printed per stage in µs per event next to the
   Faust baseline's time per event, so a missed throughput or latency target comes with its profile.
   Then the real worker over the backlog again under py-spy (bench/worker_profile.py): what its one
   Python core does, Faust and aiokafka included.

The output ends with the targets, met or not, and a **sizing** (bench/sizing.py) computed from the
figures of the run alone. Run: ``make bench`` or ``python -m bench [--events N --customers N ...]``;
``--json FILE`` keeps the figures. Every server and process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
import redis
from kafka import KafkaConsumer, TopicPartition

from agents.metrics import Metrics
from agents.pipeline import Pipeline
from bench.pipeline_profile import Breakdown, profile_pipeline, records_of
from bench.progress import PER_EVENT_TOPIC
from bench.rule_cost import collect
from bench.sizing import Measured, sizing_lines
from bench.worker_profile import WorkerProfile, profile_process
from rules.load.ruleset import load_ruleset
from schemas.catalog import (
    CHURN_ALERTS,
    DEAD_LETTERS,
    OFFERS,
    OUTPUT_TOPICS,
    RISK_SIGNALS,
    SERVICE_ALERTS,
)
from schemas.profile.behaviour import BEHAVIOUR_FIELD
from schemas.profile.rhythm import GAPS_FIELD
from sinks.redis.keys import TAGS_FIELD, cooldown_key, timeline_key
from sinks.redis.profile_state import decode as decode_profile
from streams.config import connect_redis, pipeline_config
from streams.dev.cluster import EmbeddedRedisCluster
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from streams.kafka.admin import ALL_TOPICS, create_topics
from streams.runtime import load_churn_model
from streams.settings import Settings
from streams.sim.event import SimEvent
from streams.sim.generator import generate
from streams.sim.produce import produce
from streams.sim.scenario import Scenario


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What to run; the defaults are the figures the project reports (docs/performance.md)."""

    events: int = 200_000
    customers: int = 20_000
    seed: int = 7
    #: Customers who meet a fraudster per 60 days (the simulator's 0.6% would leave the latency runs
    #: with a handful of risk signals; their latency is a target of its own, issue 19).
    fraud_share: float = 0.05
    partitions: int = 4
    per_event_events: int = 20_000
    latency_rates: tuple[float, ...] = (2_000.0,)  # fixed offered rates, then the capacity share's
    #: After the fixed rates, offer this share of the rate the latency workers just measured on the
    #: backlog (their capacity); 0: no such run.
    capacity_share: float = 0.5
    latency_seconds: float = 20.0
    memory_customers: int = 300
    memory_days: int = 120
    workers: tuple[int, ...] = (1, 2)
    profile_events: int = 20_000
    spy_seconds: float = 20.0
    latency_workers: int = 1  # workers for the backlog run and the latency runs after it
    cluster_masters: int = 3  # masters of the Redis Cluster one worker runs on (0: no cluster run)
    #: The cluster run gives up when its worker reads nothing for this long (Faust restarts a
    #: crashed agent and Redis errors are retried, so a worker that cannot use the cluster stalls
    #: rather than exits).
    cluster_stall_s: float = 90.0
    memory_only: bool = False  # only the Redis memory step (a minute): for sizing Redis
    timeout_s: float = 1_200.0
    #: What the in-process steps (memory, the profiled pipeline) are configured with, through
    #: streams/config.py as the workers are; the workers read the same ``SIGNALBANK_*`` environment.
    settings: Settings = field(default_factory=Settings)


#: The runs' names, as printed and as the verdicts find them.
FAUST_CONSUME = "faust consume-only (defaults)"
FAUST_TAKE = "faust take_events, no work (floor)"
PER_EVENT = "per-event baseline"
ONE_WORKER = "signalbank, 1 worker"
ON_CLUSTER = "signalbank, 1 worker, Redis Cluster"

#: Commands that run scripts: INFO commandstats counts a script's time under them, the commands the
#: script calls included.
SCRIPT_RUNNERS = frozenset({"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"})


def script_commands() -> frozenset[str]:
    """Commands our Lua scripts call (sinks/redis/lua): INFO commandstats counts each of their calls
    a second time under its own name, beside the EVALSHA whose time already includes it."""
    called = r"redis\.p?call\(\s*[\"']([A-Za-z_]+)[\"']"
    folder = resources.files("sinks.redis").joinpath("lua")
    return frozenset(
        name.lower()
        for script in folder.iterdir()
        if script.name.endswith(".lua")
        for name in re.findall(called, script.read_text(encoding="utf-8"))
    )


@dataclass(frozen=True, slots=True)
class ServerWork:
    """What one Redis server did over a measured run (``CONFIG RESETSTAT`` before, ``INFO`` after)."""

    name: str  # "redis", or "master 0 (:port)" in a cluster
    usec: dict[str, int]  # command -> microseconds inside it, as INFO commandstats counts them
    calls: dict[str, int]  # command -> calls
    cpu_seconds: float  # the server process's user + system CPU over the run (INFO cpu)


@dataclass(frozen=True, slots=True)
class RedisWork:
    """Redis time per event over one measured run, on one server or every master of a cluster.

    The figure is the time INFO commandstats counts in the commands clients sent: every command
    except those our scripts call (``inside_scripts``), whose time is already in the script's
    EVALSHA. A command the worker also sends itself (the silence schedule's one ZADD per batch)
    is then left out too: well under a microsecond per event. ``cpu_us_per_event`` is the servers'
    whole CPU, reading requests and writing replies included.
    """

    events: int
    servers: tuple[ServerWork, ...]
    inside_scripts: frozenset[str] = frozenset()

    def server_usec(self, server: ServerWork) -> int:
        return sum(us for command, us in server.usec.items() if command not in self.inside_scripts)

    @property
    def us_per_event(self) -> float:
        return sum(map(self.server_usec, self.servers)) / max(1, self.events)

    @property
    def cpu_us_per_event(self) -> float:
        return sum(s.cpu_seconds for s in self.servers) * 1e6 / max(1, self.events)

    def top(self, count: int = 5) -> list[tuple[str, float]]:
        """The commands with the most time, µs per event, summed over the servers (script calls too)."""
        usec: dict[str, int] = {}
        for server in self.servers:
            for command, us in server.usec.items():
                usec[command] = usec.get(command, 0) + us
        ranked = sorted(usec.items(), key=lambda kv: -kv[1])[:count]
        return [(command, us / max(1, self.events)) for command, us in ranked]

    def text(self) -> str:
        """``120.3 µs per event (server CPU 151 µs): evalsha 118.0, ... (in scripts: hset 20.1)``"""
        top = self.top()
        own = ", ".join(f"{c} {us:.1f}" for c, us in top if c not in self.inside_scripts)
        inner = ", ".join(f"{c} {us:.1f}" for c, us in top if c in self.inside_scripts)
        return f"{self.us_per_event:.1f} µs per event (server CPU {self.cpu_us_per_event:.0f} µs): {own}" + (
            f" (within the scripts: {inner})" if inner else ""
        )


def commands_of(commandstats: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """(µs, calls) by command from redis-py's ``info("commandstats")`` (``cmdstat_<name>`` entries)."""
    usec: dict[str, int] = {}
    calls: dict[str, int] = {}
    for key, stats in commandstats.items():
        name = key.removeprefix("cmdstat_").lower()
        usec[name], calls[name] = int(stats["usec"]), int(stats["calls"])
    return usec, calls


#: What the meter itself sends (its connection's CLIENT SETINFO, CONFIG RESETSTAT, INFO): left out
#: of every figure, so a worker's few CLIENT and HELLO calls at start-up are left out too.
METER_COMMANDS = ("client", "hello", "config", "info")


class RedisMeter:
    """Measures what some Redis servers do between ``reset`` and ``read``."""

    def __init__(self, urls: Sequence[str], names: Sequence[str] | None = None) -> None:
        self.urls = list(urls)
        self.names = list(names or ["redis"] * len(self.urls))
        self.inside_scripts = script_commands()
        self._cpu_at_reset = [0.0] * len(self.urls)

    def reset(self) -> None:
        """``CONFIG RESETSTAT`` on each server (commandstats from zero), and its CPU so far."""
        for i, url in enumerate(self.urls):
            client = redis.Redis.from_url(url)
            try:
                client.config_resetstat()
                self._cpu_at_reset[i] = _cpu_seconds(client.info("cpu"))
            finally:
                client.close()

    def read(self, events: int) -> RedisWork:
        servers: list[ServerWork] = []
        for name, url, cpu_before in zip(self.names, self.urls, self._cpu_at_reset, strict=True):
            client = redis.Redis.from_url(url)
            try:
                usec, calls = commands_of(client.info("commandstats"))
                cpu = _cpu_seconds(client.info("cpu")) - cpu_before
            finally:
                client.close()
            for own in METER_COMMANDS:
                usec.pop(own, None)
                calls.pop(own, None)
            servers.append(ServerWork(name, usec, calls, cpu))
        return RedisWork(events, tuple(servers), self.inside_scripts)


def _cpu_seconds(cpu: dict[str, Any]) -> float:
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


@dataclass(frozen=True, slots=True)
class Throughput:
    name: str
    events: int
    seconds: float
    redis: RedisWork | None = None  # over every event the run read, start-up included

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Latency:
    offered_rate: float
    achieved_rate: float
    events: int
    outputs: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    capacity_share: float | None = None  # the rate was this share of the measured capacity
    redis: RedisWork | None = None
    risk: Latency | None = None  # the same over the risk signals alone (None: the run gave none)


@dataclass(frozen=True, slots=True)
class SharedKeys:
    """Keys of no one customer (``sb:`` keys not tagged ``sb:{id}``: the silence schedule) after one
    worker's backlog, with the customers that have keys: what each customer adds to them. Keys that
    differ only in their hash tag (``sb:schedule:{s0}``, ``{s1}``, ...) count as one group."""

    customers: int
    bytes_by_key: dict[str, int]  # key, its hash tag as {*} -> bytes of all such keys
    keys: dict[str, int] = field(default_factory=dict)  # the same groups -> how many keys

    @property
    def per_customer(self) -> float:
        return sum(self.bytes_by_key.values()) / max(1, self.customers)


@dataclass(frozen=True, slots=True)
class Memory:
    customers: int
    days: int
    mean_bytes: float
    p95_bytes: float
    max_bytes: int
    by_key: dict[str, float]  # key suffix (``sb:{id}:<suffix>``) -> mean bytes per customer
    #: parts of the profile string (``:p``) -> mean encoded bytes per customer (each part's share of it)
    in_profile: dict[str, float] = field(default_factory=dict)
    #: what the whole pipeline keeps beside the profile (the same history through the claims too):
    #: part (the timeline, the tag set) -> mean bytes per customer
    beside: dict[str, float] = field(default_factory=dict)


@dataclass
class Report:
    options: BenchOptions
    produce_seconds: float = 0.0
    runs: list[Throughput] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    outputs_by_topic: dict[str, int] = field(default_factory=dict)
    customers_with_outputs: int = 0
    customers_with_actions: int = 0  # a churn alert, an offer or a service alert (not tags or tiers)
    memory: Memory | None = None
    breakdown: Breakdown | None = None
    worker_profile: WorkerProfile | None = None
    shared: SharedKeys | None = None
    cluster_error: str | None = None  # why the cluster run did not give figures

    def run(self, name: str) -> Throughput | None:
        return next((r for r in self.runs if r.name == name), None)


def workers_text(count: int) -> str:
    return f"{count} worker{'s' if count > 1 else ''}"


def simulated(options: BenchOptions) -> tuple[list[SimEvent], Iterator[SimEvent]]:
    """The backlog and the rest of the simulation after it in event time (the latency runs take
    theirs from it; the capacity share's rate is known only once the backlog has been read)."""
    scenario = Scenario(
        customers=options.customers, days=60, seed=options.seed, fraud_share=options.fraud_share
    )
    stream = generate(scenario)
    return list(islice(stream, options.events)), stream


def fresh_redis(server: EmbeddedRedis) -> str:
    client = redis.Redis.from_url(server.url)
    try:
        client.flushall()
    finally:
        client.close()
    return server.url


def meter_of(server: EmbeddedRedis) -> RedisMeter:
    return RedisMeter([server.url])


def _events_read(workers: Sequence[WorkerProcess]) -> float:
    read = 0.0
    for worker in workers:
        with contextlib.suppress(OSError):
            read += total(scrape(worker.metrics_url), "signalbank_events_total")
    return read


def wait_for_count(
    workers: Sequence[WorkerProcess], expected: int, timeout: float, stall_s: float | None = None
) -> tuple[float, float, float]:
    """Poll the workers' metrics until they have read ``expected`` events (``stall_s``: give up
    when none has been read for that long).

    Returns (events read at the first poll that saw any, its time, the time the last one was read):
    the rate is taken between the two, so start-up and the group join do not count.
    """
    deadline = time.monotonic() + timeout
    first_count, first_at = 0.0, 0.0
    last_read, moved_at = 0.0, time.monotonic()
    while time.monotonic() < deadline:
        read = _events_read(workers)
        now = time.monotonic()
        if read and not first_at:
            first_count, first_at = read, now
        if read >= expected:
            return first_count, first_at, now
        if not all(w.alive() for w in workers):
            raise RuntimeError(f"a worker died:\n{workers[0].log_tail()}")
        if read > last_read:
            last_read, moved_at = read, now
        elif stall_s is not None and now - moved_at > stall_s:
            raise TimeoutError(
                f"workers read {read:.0f} of {expected} events and nothing for {stall_s:.0f}s:\n"
                + workers[0].log_tail(15)
            )
        time.sleep(0.05)
    raise TimeoutError(f"workers read {_events_read(workers):.0f} of {expected} events in {timeout:.0f}s")


@contextlib.contextmanager
def running_workers(
    kafka: EmbeddedKafka, redis_url: str, options: BenchOptions, count: int, app_id: str
) -> Iterator[list[WorkerProcess]]:
    workers = [WorkerProcess(kafka.url, redis_url, options.partitions, None, app_id) for _ in range(count)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready(timeout=120)
        yield workers
    finally:
        for worker in workers:
            worker.stop()


_GROUPS = itertools.count()


def measure_workers(
    kafka: EmbeddedKafka,
    redis_url: str,
    meter: RedisMeter,
    options: BenchOptions,
    count: int,
    expected: int,
    name: str | None = None,
    stall_s: float | None = None,
) -> Throughput:
    """``count`` workers in a new group over everything in the input topics (``expected`` events)."""
    meter.reset()
    app_id = f"bench-{count}w-{os.getpid()}-{next(_GROUPS)}"  # a new group: it reads from the start
    with running_workers(kafka, redis_url, options, count, app_id) as workers:
        first_count, first_at, done_at = wait_for_count(workers, expected, options.timeout_s, stall_s)
        work = meter.read(expected)
    return Throughput(
        name or f"signalbank, {workers_text(count)}",
        int(expected - first_count),
        done_at - first_at,
        work,
    )


def _event_id(event: SimEvent) -> str:
    return str(orjson.loads(event.value).get("event_id", ""))


@dataclass(frozen=True, slots=True)
class Offered:
    """One latency run: events offered at a rate, when each was sent, what Redis did meanwhile."""

    rate: float
    capacity_share: float | None
    events: int
    achieved_rate: float
    sent_at: dict[str, float]
    redis: RedisWork


def measure_latency(
    kafka: EmbeddedKafka,
    redis_url: str,
    meter: RedisMeter,
    options: BenchOptions,
    backlog: int,
    later: Iterator[SimEvent],
) -> tuple[Throughput, list[Latency], list[tuple[str, int, dict[str, Any]]], SharedKeys]:
    """Drain the backlog with ``latency_workers`` workers (their capacity), then offer events taken
    from ``later`` at each fixed rate and at ``capacity_share`` of that capacity (latency), waiting
    for the workers to catch up after each. Redis work is measured over each part on its own."""
    count = options.latency_workers
    runs: list[Offered] = []
    meter.reset()
    with running_workers(kafka, redis_url, options, count, f"bench-{count}w-{os.getpid()}") as workers:
        first_count, first_at, done_at = wait_for_count(workers, backlog, options.timeout_s)
        name = f"signalbank, {workers_text(count)}"
        throughput = Throughput(name, int(backlog - first_count), done_at - first_at, meter.read(backlog))
        shared = shared_keys(redis_url)
        offered = backlog
        for rate, share in offered_rates(options, throughput.rate):
            events = list(islice(later, int(rate * options.latency_seconds)))
            sent: dict[str, float] = {}
            meter.reset()
            started = time.monotonic()
            produce(events, kafka.bootstrap, rate=rate, on_sent=partial(_mark_sent, sent))
            achieved = len(events) / (time.monotonic() - started)
            offered += len(events)
            wait_for_count(workers, offered, options.timeout_s)
            runs.append(Offered(rate, share, len(events), achieved, sent, meter.read(len(events))))
    outputs = read_outputs(kafka.bootstrap)
    latencies = [_latency(outputs, run) for run in runs]
    every_sent = {event_id for run in runs for event_id in run.sent_at}
    backlog_outputs = [o for o in outputs if o[2].get("trigger_event_id") not in every_sent]
    return throughput, latencies, backlog_outputs, shared


def shared_keys(url: str) -> SharedKeys:
    """MEMORY USAGE (every element counted) of the ``sb:`` keys of no one customer, and how many
    customers have keys."""
    client = redis.Redis.from_url(url)
    customers: set[str] = set()
    shared: dict[str, int] = {}
    keys: dict[str, int] = {}
    try:
        for key in client.scan_iter("sb:*", count=1000):
            name = key.decode()
            if name.startswith("sb:{"):
                customers.add(key_parts(name)[0])
            else:
                group = re.sub(r"\{[^}]*\}", "{*}", name)
                shared[group] = shared.get(group, 0) + int(client.memory_usage(key, samples=0) or 0)
                keys[group] = keys.get(group, 0) + 1
    finally:
        client.close()
    return SharedKeys(len(customers), shared, keys)


def failure_text(exc: BaseException) -> str:
    """The error's first line, then the last exception the worker's log tail (after it) names."""
    first, *log = str(exc).splitlines()
    raised = [line.strip() for line in log if re.match(r"^\s*[\w.]+(Error|Exception)\b", line)]
    return f"{type(exc).__name__}: {first}" + (f" (the worker's log: {raised[-1]})" if raised else "")


def measure_cluster(kafka: EmbeddedKafka, options: BenchOptions, expected: int) -> Throughput:
    """One worker (new group) over everything in the input topics on an empty local Redis Cluster,
    Redis work measured on each master."""
    with EmbeddedRedisCluster(masters=options.cluster_masters) as cluster:
        names = [f"master {i} (:{port})" for i, port in enumerate(cluster.ports)]
        meter = RedisMeter(cluster.urls, names)
        return measure_workers(
            kafka, cluster.url, meter, options, 1, expected, ON_CLUSTER, options.cluster_stall_s
        )


def offered_rates(options: BenchOptions, capacity: float) -> list[tuple[float, float | None]]:
    """(events/s, share of the capacity or None) of each latency run: the fixed rates, then the share."""
    rates: list[tuple[float, float | None]] = [(rate, None) for rate in options.latency_rates]
    if options.capacity_share > 0 and capacity > 0:
        rates.append((capacity * options.capacity_share, options.capacity_share))
    return rates


def _mark_sent(sent: dict[str, float], event: SimEvent) -> None:
    sent[_event_id(event)] = time.time()


def _latency(outputs: list[tuple[str, int, dict[str, Any]]], run: Offered) -> Latency:
    """Output timestamp minus the send time of the event that triggered it, over one rate's events;
    the risk signals' on their own beside it."""
    latency = _latency_of(outputs, run)
    if latency is None:
        raise RuntimeError(f"no output was triggered by the events offered at {run.rate:.0f} events/s")
    risk = _latency_of([o for o in outputs if o[0] == RISK_SIGNALS], run)
    return replace(latency, risk=risk)


def _latency_of(outputs: list[tuple[str, int, dict[str, Any]]], run: Offered) -> Latency | None:
    sent_at = run.sent_at
    delays = sorted(
        timestamp / 1000 - sent_at[value["trigger_event_id"]]
        for _, timestamp, value in outputs
        if value.get("trigger_event_id") in sent_at
    )
    if not delays:
        return None
    return Latency(
        run.rate,
        run.achieved_rate,
        run.events,
        len(delays),
        _quantile(delays, 0.50) * 1000,
        _quantile(delays, 0.95) * 1000,
        _quantile(delays, 0.99) * 1000,
        delays[-1] * 1000,
        run.capacity_share,
        run.redis,
    )


def _quantile(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def read_outputs(bootstrap: str, quiet_s: float = 3.0) -> list[tuple[str, int, dict[str, Any]]]:
    """Every record of the output topics: (topic, timestamp ms, value)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(t, p)
            for t in OUTPUT_TOPICS
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found: list[tuple[str, int, dict[str, Any]]] = []
        last_record = time.monotonic()
        while time.monotonic() - last_record < quiet_s:
            for records in consumer.poll(timeout_ms=250).values():
                last_record = time.monotonic()
                found.extend((r.topic, r.timestamp, orjson.loads(r.value)) for r in records)
        return found
    finally:
        consumer.close()


def run_baseline(
    module: str, kafka: EmbeddedKafka, redis_url: str, expected: int, timeout: float
) -> Throughput:
    """Run ``python -m module worker`` until it reports having consumed ``expected`` events."""
    workdir = Path(tempfile.mkdtemp(prefix="signalbank-bench-"))
    result = workdir / "result.json"
    log_path = workdir / "worker.log"
    env = {
        **os.environ,
        "SIGNALBANK_BENCH_APP_ID": f"{module.rsplit('.', 1)[-1]}-{os.getpid()}",
        "SIGNALBANK_BENCH_KAFKA_URL": kafka.url,
        "SIGNALBANK_BENCH_REDIS_URL": redis_url,
        "SIGNALBANK_BENCH_EXPECTED": str(expected),
        "SIGNALBANK_BENCH_RESULT_PATH": str(result),
        "SIGNALBANK_BENCH_DATA_DIR": str(workdir / "data"),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "worker", "-l", "warn"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not result.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
                raise RuntimeError(f"{module} did not finish:\n{tail}")
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    figures = json.loads(result.read_text())
    name = {
        "bench.faust_consume": FAUST_CONSUME,
        "bench.faust_take": FAUST_TAKE,
        "bench.per_event": PER_EVENT,
    }
    events = int(figures["count"]) - int(figures.get("first_count", 0))  # after the first, as for ours
    return Throughput(name.get(module, module), events, figures["last"] - figures["first"])


def measure_memory(server: EmbeddedRedis, options: BenchOptions) -> Memory:
    """Apply months of simulated history to an empty Redis, then sum MEMORY USAGE per customer."""
    url = fresh_redis(server)
    scenario = Scenario(customers=options.memory_customers, days=options.memory_days, seed=options.seed)
    asyncio.run(collect(url, scenario, 1, options.settings, commit_batches=True))
    client = redis.Redis.from_url(url)
    per_customer: dict[str, int] = {}
    by_key: dict[str, int] = {}
    parts: dict[str, int] = {}
    try:
        for key in client.scan_iter("sb:{*", count=1000):
            customer, kind = key_parts(key.decode())
            used = int(client.memory_usage(key) or 0)
            per_customer[customer] = per_customer.get(customer, 0) + used
            by_key[kind] = by_key.get(kind, 0) + used
            if kind == "p":
                blob = client.get(key)
                for part, size in profile_parts(blob if isinstance(blob, bytes) else b"").items():
                    parts[part] = parts.get(part, 0) + size
    finally:
        client.close()
    sizes = sorted(per_customer.values())
    beside = asyncio.run(history_bytes(fresh_redis(server), scenario, options.settings))
    return Memory(
        len(sizes),
        options.memory_days,
        statistics.fmean(sizes),
        _quantile(sizes, 0.95),
        sizes[-1],
        {kind: used / len(sizes) for kind, used in sorted(by_key.items())},
        {part: size / len(sizes) for part, size in sorted(parts.items())},
        beside,
    )


async def history_bytes(url: str, scenario: Scenario, settings: Settings) -> dict[str, float]:
    """The same history through the whole pipeline (claims, tags, timeline) on an empty Redis: mean
    bytes per customer of the timeline key (MEMORY USAGE) and of the tag set in the cooldown hash
    (its field and value), the parts the profile step does not write."""
    records = records_of(event for event in generate(scenario) if event.valid)
    redis_state = connect_redis(settings, url)
    ruleset = load_ruleset([settings.rules_dir])
    config = pipeline_config(settings, load_churn_model(settings.churn_model))
    pipeline = Pipeline(redis_state, lambda: ruleset, Metrics(), config)
    try:
        for start in range(0, len(records), settings.batch_size):
            await pipeline.process(records[start : start + settings.batch_size])
        client = redis_state.client
        customers = {record.key.decode() for record in records if record.key}
        timeline = tags = 0
        for customer in customers:
            timeline += int(await client.memory_usage(timeline_key(customer), samples=0) or 0)
            held = await client.hget(cooldown_key(customer), TAGS_FIELD)
            tags += len(TAGS_FIELD) + len(str(held)) if held else 0
    finally:
        await redis_state.aclose()
    count = max(1, len(customers))
    return {
        "timeline (sb:{id}:timeline, the last events and outputs)": timeline / count,
        "tag set (field tags of sb:{id}:cooldown)": tags / count,
    }


#: Fields of the profile string whose bytes the memory step shows on their own: per-customer state
#: an issue added (``name`` -> the profile fields it is kept in).
PROFILE_PARTS: dict[str, tuple[str, ...]] = {
    "rhythm (gap histogram)": (GAPS_FIELD,),
    "behaviour (devices, countries, channels, payees, amounts, last hour, location)": (BEHAVIOUR_FIELD,),
}


def profile_parts(blob: bytes) -> dict[str, int]:
    """Encoded bytes of each of ``PROFILE_PARTS`` in one stored profile: the string with and without it."""
    if not blob:
        return {}
    _, state = decode_profile(blob)
    whole = len(state.encode(0))
    sizes: dict[str, int] = {}
    for part, names in PROFILE_PARTS.items():
        kept = {name: state.fields.pop(name) for name in names if name in state.fields}
        sizes[part] = whole - len(state.encode(0))
        state.fields.update(kept)
    return sizes


def key_parts(key: str) -> tuple[str, str]:
    """(customer id, suffix) of a customer's key ``sb:{<id>}:<suffix>``; suffix "" when it has none."""
    tag_end = key.index("}")
    return key[key.index("{") + 1 : tag_end], key[tag_end + 1 :].removeprefix(":")


def run(options: BenchOptions, emit: Callable[[str], None] = print) -> Report:
    report = Report(options)
    if options.memory_only:
        with EmbeddedRedis() as server:
            report.memory = measure_memory(server, options)
        return report
    emit(f"simulating {options.events:,} events of {options.customers:,} customers ...")
    backlog, later = simulated(options)
    with EmbeddedKafka() as kafka, EmbeddedRedis() as server:
        create_topics(kafka.bootstrap, options.partitions, names=(*ALL_TOPICS, PER_EVENT_TOPIC))
        started = time.monotonic()
        produce(backlog, kafka.bootstrap, rate=None)
        report.produce_seconds = time.monotonic() - started
        emit(f"backlog produced in {report.produce_seconds:.1f}s; Faust consume-only baseline ...")
        report.runs.append(
            run_baseline("bench.faust_consume", kafka, server.url, len(backlog), options.timeout_s)
        )
        emit("Faust take_events floor (the worker's batches, no work) ...")
        report.runs.append(
            run_baseline("bench.faust_take", kafka, server.url, len(backlog), options.timeout_s)
        )
        emit(f"signalbank, {workers_text(options.latency_workers)}: backlog, then latency ...")
        throughput, latencies, outputs, report.shared = measure_latency(
            kafka, fresh_redis(server), meter_of(server), options, len(backlog), later
        )
        report.runs.append(throughput)
        report.latencies = latencies
        for topic, _, _ in outputs:
            report.outputs_by_topic[topic] = report.outputs_by_topic.get(topic, 0) + 1
        report.customers_with_outputs = len(
            {v.get("customer_id") for t, _, v in outputs if t != DEAD_LETTERS}
        )
        report.customers_with_actions = len(
            {v.get("customer_id") for t, _, v in outputs if t in (CHURN_ALERTS, OFFERS, SERVICE_ALERTS)}
        )
        in_topics = len(backlog) + sum(lat.events for lat in latencies)
        for count in (c for c in options.workers if c > 1):
            emit(f"signalbank, {count} workers ...")
            report.runs.append(
                measure_workers(kafka, fresh_redis(server), meter_of(server), options, count, in_topics)
            )
        if options.cluster_masters > 0:
            emit(f"signalbank, 1 worker on a {options.cluster_masters}-master Redis Cluster ...")
            try:
                report.runs.append(measure_cluster(kafka, options, in_topics))
            except (RuntimeError, TimeoutError, OSError, redis.RedisError) as exc:
                report.cluster_error = failure_text(exc)
        emit("per-event baseline ...")
        subset = min(options.per_event_events, len(backlog))
        report.runs.append(
            run_baseline("bench.per_event", kafka, fresh_redis(server), subset, options.timeout_s)
        )
        emit("Redis memory per profile ...")
        report.memory = measure_memory(server, options)
        emit("where one worker's time goes (pipeline alone, profiled) ...")
        _, report.breakdown = profile_pipeline(
            options.settings, fresh_redis(server), records_of(some_customers(backlog, options))
        )
        if options.spy_seconds > 0:
            emit(f"the worker under py-spy for {options.spy_seconds:.0f}s ...")
            report.worker_profile = profile_worker(kafka, fresh_redis(server), options)
    return report


def some_customers(backlog: Sequence[SimEvent], options: BenchOptions) -> list[SimEvent]:
    """Every event of about ``profile_events / events`` of the customers: their whole history in
    order, so the profiled mix is the backlog's (its first events alone are mostly new customers)."""
    share = max(1, round(len(backlog) / max(1, options.profile_events)))
    return [e for e in backlog if zlib.crc32(e.key) % share == 0]


def profile_worker(kafka: EmbeddedKafka, redis_url: str, options: BenchOptions) -> WorkerProfile:
    """One worker (new group, empty Redis) over the backlog, sampled once it has read its first events."""
    with running_workers(kafka, redis_url, options, 1, f"bench-spy-{os.getpid()}") as (worker,):
        wait_for_count([worker], 1, options.timeout_s)
        return profile_process(worker.pid, options.spy_seconds)


def render(report: Report) -> str:
    """The figures as a plain-text table with the targets of issue 5."""
    o = report.options
    lines = (
        ["Redis memory benchmark (embedded Redis)"]
        if o.memory_only
        else [
            f"end-to-end benchmark: {o.events:,} events of {o.customers:,} customers, "
            f"{o.partitions} partitions, embedded Tansu + Redis, {os.cpu_count()} cores",
            f"  backlog produced in {report.produce_seconds:.1f}s",
            f"  {'run':<38}{'events':>10}{'seconds':>10}{'events/s':>11}",
        ]
    )
    for r in report.runs:
        lines.append(f"  {r.name:<38}{r.events:>10,}{r.seconds:>10.1f}{r.rate:>11,.0f}")
    if report.cluster_error:
        lines.append(f"  {ON_CLUSTER}: did not run to the end: {report.cluster_error}")
    ours = report.run(ONE_WORKER)
    for baseline, target in ((FAUST_CONSUME, ">= 1"), (FAUST_TAKE, ">= 0.6"), (PER_EVENT, ">= 8")):
        other = report.run(baseline)
        if ours and other and other.rate > 0:
            lines.append(
                f"  signalbank / {baseline + ':':<36}{ours.rate / other.rate:6.2f}x   (target {target})"
            )
    lines.extend(redis_lines(report))
    if report.shared and report.shared.bytes_by_key:
        keys = ", ".join(
            f"{k}{f' ({n} keys)' if (n := report.shared.keys.get(k, 1)) > 1 else ''} {v:,} B"
            for k, v in sorted(report.shared.bytes_by_key.items())
        )
        lines.append(
            f"  keys of no one customer after one worker's backlog: {keys}, for {report.shared.customers:,} "
            f"customers: {report.shared.per_customer:,.0f} B per customer"
        )
    workers = workers_text(o.latency_workers)
    for lat in report.latencies:
        lines.append(
            f"  latency, event sent -> output written, {workers}, "
            f"at {lat.achieved_rate:,.0f} events/s offered{_share_text(lat)} "
            f"({lat.outputs:,} outputs of {lat.events:,} events): p50 {lat.p50_ms:.0f} ms, "
            f"p95 {lat.p95_ms:.0f} ms, p99 {lat.p99_ms:.0f} ms, max {lat.max_ms:.0f} ms"
            + ("   (target p99 <= 100)" if lat.capacity_share else "")
        )
        if (risk := lat.risk) is not None:
            lines.append(
                f"    of which event sent -> risk signal written ({risk.outputs:,} risk signals): "
                f"p50 {risk.p50_ms:.0f} ms, p95 {risk.p95_ms:.0f} ms, p99 {risk.p99_ms:.0f} ms, "
                f"max {risk.max_ms:.0f} ms" + ("   (target p99 <= 100)" if lat.capacity_share else "")
            )
    if report.outputs_by_topic:
        topics = ", ".join(f"{t.split('.')[1]} {n:,}" for t, n in sorted(report.outputs_by_topic.items()))
        share = report.customers_with_outputs / max(1, o.customers)
        acted = report.customers_with_actions / max(1, o.customers)
        lines.append(
            f"  outputs of the backlog: {topics}; customers with an output: {share:.1%} "
            f"(with a churn alert, offer or service alert: {acted:.1%})"
        )
    if report.memory:
        m = report.memory
        lines.append(
            f"  Redis per profile ({m.customers} customers, {m.days} days of history): "
            f"mean {m.mean_bytes:,.0f} B, p95 {m.p95_bytes:,.0f} B, max {m.max_bytes:,} B   "
            f"(target <= {MEMORY_TARGET_BYTES:,})"
        )
        lines.append("    mean bytes by key (sb:{id}:<suffix>):")
        width = max(len(kind or "(none)") for kind in m.by_key)
        lines.extend(
            f"      {kind or '(none)':<{width}} {size:>7,.0f}  {KEY_CONTENTS.get(kind, UNKNOWN_KEY)}"
            for kind, size in sorted(m.by_key.items(), key=lambda kv: -kv[1])
        )
        lines.extend(f"      of which in :p, {part}: {size:,.0f} B" for part, size in m.in_profile.items())
        if m.beside:
            lines.append(
                "    beside the profile, the same history through the whole pipeline (mean per customer):"
            )
            lines.extend(f"      {part}: {size:,.0f} B" for part, size in m.beside.items())
    faust = report.run(FAUST_CONSUME)
    if report.breakdown and report.breakdown.events:
        b = report.breakdown
        lines.append(
            f"  where one worker's time goes: the pipeline alone (no Kafka), {b.events:,} events under "
            f"pyinstrument, {b.per_event_us:.0f} µs per event"
            + (f" (Faust consume-only: {1e6 / faust.rate:.0f} µs per event end to end)" if faust else "")
        )
        lines.extend(b.lines(indent="    "))
    if report.worker_profile:
        w = report.worker_profile
        lines.append(
            f"  the worker under py-spy --gil ({w.seconds:.0f}s of the backlog, {w.samples:,} samples): "
            f"its Python held the GIL {w.gil_share:.0%} of the time; of that:"
        )
        lines.extend(w.lines())
    lines.extend(verdicts(report))
    lines.extend(sizing_lines(measured(report)))
    return "\n".join(lines)


def measured(report: Report) -> Measured:
    """The run's figures the sizing takes: memory per profile (its own keys plus its share of the
    keys of no one customer), one worker's rate and Redis work, the cluster's Redis work."""
    ours, cluster = report.run(ONE_WORKER), report.run(ON_CLUSTER)
    memory, shared = report.memory, report.shared
    return Measured(
        bytes_per_profile=memory.mean_bytes if memory else None,
        profile_days=memory.days if memory else 0,
        redis_us_per_event=ours.redis.us_per_event if ours and ours.redis else None,
        redis_cpu_us_per_event=ours.redis.cpu_us_per_event if ours and ours.redis else None,
        worker_rate=ours.rate if ours else None,
        cluster_us_per_event=cluster.redis.us_per_event if cluster and cluster.redis else None,
        cluster_cpu_us_per_event=cluster.redis.cpu_us_per_event if cluster and cluster.redis else None,
        cluster_masters=len(cluster.redis.servers) if cluster and cluster.redis else 0,
        shared_bytes_per_customer=shared.per_customer if shared else 0.0,
    )


#: Targets (issue 14), printed with each figure and checked in the verdicts.
FAUST_CONSUME_TARGET = 1.0  # one worker's rate over Faust consume-only's
FAUST_TAKE_TARGET = 0.6  # one worker's rate over the take_events floor's
PER_EVENT_TARGET = 8.0  # one worker's rate over the per-event baseline's (issue 5)
REDIS_US_TARGET = 30.0  # Redis µs per event, one worker over the backlog
LATENCY_P99_TARGET_MS = 100.0  # at the capacity share's rate
MEMORY_TARGET_BYTES = 1_024  # mean bytes per profile with 90 days of history


def redis_lines(report: Report) -> list[str]:
    """Redis work per event of each measured run (and of each server in a cluster)."""
    measured: list[tuple[str, RedisWork]] = [(r.name + ", backlog", r.redis) for r in report.runs if r.redis]
    measured.extend(
        (f"latency run at {lat.offered_rate:,.0f} events/s", lat.redis)
        for lat in report.latencies
        if lat.redis
    )
    if not measured:
        return []
    lines = [
        "  Redis work per event (INFO commandstats after CONFIG RESETSTAT; µs in each command per event):"
    ]
    for name, work in measured:
        lines.append(f"    {name}: {work.text()}")
        if len(work.servers) > 1:
            lines.extend(
                f"      {server.name}: {work.server_usec(server) / max(1, work.events):.1f} µs per event, "
                f"{server.cpu_seconds * 1e6 / max(1, work.events):.0f} µs of server CPU"
                for server in work.servers
            )
    return lines


def _share_text(lat: Latency) -> str:
    return f" (= {lat.capacity_share:.0%} of its measured capacity)" if lat.capacity_share else ""


def verdicts(report: Report) -> list[str]:
    """Each target, met or not, and for a missed one the figures above that say why."""
    ours, faust = report.run(ONE_WORKER), report.run(FAUST_CONSUME)
    floor, naive = report.run(FAUST_TAKE), report.run(PER_EVENT)
    lines: list[str] = []
    if ours and faust:
        ratio = ours.rate / faust.rate
        lines.append(
            f"    end to end >= Faust consume-only: {_met(ratio >= FAUST_CONSUME_TARGET)} ({ratio:.2f}x)"
        )
        w = report.worker_profile
        if ratio < FAUST_CONSUME_TARGET and w and w.samples:
            python_us = w.gil_share / ours.rate * 1e6
            faust_us = python_us * w.share("Faust and aiokafka")
            ours_us = python_us * w.share("signalbank pipeline")
            lines.append(
                f"      one worker runs ~{python_us:.0f} µs of Python per event (GIL {w.gil_share:.0%} at "
                f"{ours.rate:,.0f} events/s): Faust and aiokafka's per-message work ~{faust_us:.0f} µs, "
                f"our pipeline ~{ours_us:.0f} µs; Faust consume-only takes {1e6 / faust.rate:.0f} µs "
                f"per event in all"
            )
    if ours and floor:
        ratio = ours.rate / floor.rate
        lines.append(
            f"    end to end >= {FAUST_TAKE_TARGET}x the Faust take_events floor: "
            f"{_met(ratio >= FAUST_TAKE_TARGET)} ({ratio:.2f}x)"
        )
        if ratio < FAUST_TAKE_TARGET:
            lines.append(
                f"      the floor takes {1e6 / floor.rate:.0f} µs per event doing nothing with its batches, "
                f"one worker {1e6 / ours.rate:.0f} µs: {1e6 / ours.rate - 1e6 / floor.rate:.0f} µs per event "
                "are ours"
            )
    if ours and naive:
        times = ours.rate / naive.rate
        lines.append(f"    >= 8x the per-event baseline: {_met(times >= PER_EVENT_TARGET)} ({times:.1f}x)")
    if ours and ours.redis:
        us = ours.redis.us_per_event
        lines.append(
            f"    Redis work <= {REDIS_US_TARGET:.0f} µs per event: "
            f"{_met(us <= REDIS_US_TARGET)} ({us:.1f} µs)"
        )
        if us > REDIS_US_TARGET:
            lines.append(
                f"      one worker over the backlog ({ours.redis.events:,} events): {ours.redis.text()}"
            )
    for lat in report.latencies:
        rate = f"{lat.offered_rate:,.0f} events/s"
        if lat.capacity_share:
            met = _met(lat.p99_ms <= LATENCY_P99_TARGET_MS)
            lines.append(
                f"    p99 <= {LATENCY_P99_TARGET_MS:.0f} ms at {lat.capacity_share:.0%} of one worker's "
                f"capacity ({rate}): {met} ({lat.p99_ms:.0f} ms)"
            )
            if lat.risk is None:
                target = f"{LATENCY_P99_TARGET_MS:.0f} ms"
                lines.append(f"    risk signals' p99 <= {target}: NOT SHOWN (no risk signal in the run)")
            else:
                met = _met(lat.risk.p99_ms <= LATENCY_P99_TARGET_MS)
                lines.append(
                    f"    risk signals' p99 <= {LATENCY_P99_TARGET_MS:.0f} ms at {lat.capacity_share:.0%} of "
                    f"one worker's capacity ({rate}): {met} ({lat.risk.p99_ms:.0f} ms over "
                    f"{lat.risk.outputs:,} risk signals; they go out with the batch's other outputs)"
                )
        else:
            lines.append(f"    p99 at {rate} (reported, as before): {lat.p99_ms:.0f} ms")
        if lat.p99_ms > LATENCY_P99_TARGET_MS and ours:
            settings = report.options.settings
            redis_here = (
                f"; Redis {lat.redis.us_per_event:.0f} µs per event here, {ours.redis.us_per_event:.0f} over "
                "the backlog"
                if lat.redis and ours.redis
                else ""
            )
            lines.append(
                f"      one worker takes {ours.rate:,.0f} events/s, so {rate} keeps it "
                f"{lat.offered_rate / ours.rate:.0%} busy; p50 {lat.p50_ms:.0f} ms; batch window "
                f"{settings.batch_within_s * 1000:.0f} ms, fetch wait {settings.fetch_max_wait_ms} ms"
                + redis_here
            )
    cluster = report.run(ON_CLUSTER)
    if cluster and cluster.redis and ours:
        work = cluster.redis
        shares = ", ".join(f"{work.server_usec(server) / max(1, work.events):.1f}" for server in work.servers)
        lines.append(
            f"    scale-out shown on a {len(work.servers)}-master Redis Cluster: one worker "
            f"{cluster.rate:,.0f} events/s ({cluster.rate / ours.rate:.2f}x its rate on one Redis), "
            f"{work.us_per_event:.1f} µs of Redis per event in all, by master {shares} µs"
        )
    elif report.cluster_error is not None or not (
        report.options.cluster_masters or report.options.memory_only
    ):
        why = report.cluster_error or "not run (--cluster-masters 0)"
        lines.append(f"    scale-out on a Redis Cluster: NOT SHOWN ({why.splitlines()[0]})")
    if report.memory:
        m = report.memory
        met = _met(m.mean_bytes <= MEMORY_TARGET_BYTES)
        lines.append(f"    <= {MEMORY_TARGET_BYTES:,} B of Redis per profile: {met} ({m.mean_bytes:,.0f} B)")
        if m.mean_bytes > MEMORY_TARGET_BYTES:
            largest = sorted(m.by_key.items(), key=lambda kv: -kv[1])
            lines.append("      " + ", ".join(f"{kind or '(none)'} {size:,.0f} B" for kind, size in largest))
    return ["  targets:", *lines] if lines else []


def _met(met: bool) -> str:
    return "met" if met else "NOT MET"


#: What each key suffix of a profile (``sb:{id}:<suffix>``) holds, printed beside its size. Keys of
#: layouts before and after a change are both here, so the memory step reads either; a suffix not
#: here is printed with UNKNOWN_KEY.
KEY_CONTENTS = {
    "p": "the profile in one compact string (sinks/redis/profile_state.py): master data, window sums, "
    "days (by week after 30), the dedupe ring",
    "cooldown": "cooldowns (rule or offer id -> until|output id), the tier and the tag set",
    "offers": "offers made: offer event id -> when, what, where, response",
    "timeline": "the timeline (sinks/redis/timeline.py): the last events and outputs, "
    "SIGNALBANK_TIMELINE_EVENTS / _OUTPUTS of each",
    "days": "earlier layout: one bucket of counters per day with activity, 90 days",
    "seen": "earlier layout: dedupe ring, the last ids and the events Kafka could still redeliver",
    "state": "earlier layout: master data, window sums, last-seen times, products, tier state",
}
UNKNOWN_KEY = "(not described in bench/e2e.py KEY_CONTENTS)"


def parse(argv: Sequence[str] | None = None) -> tuple[BenchOptions, Path | None]:
    defaults = BenchOptions()  # its settings: read from the environment here, once
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=defaults.events, help="Backlog size.")
    parser.add_argument("--customers", type=int, default=defaults.customers)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--fraud-share",
        type=float,
        default=defaults.fraud_share,
        help="Simulated customers who meet a fraudster per 60 days (risk signals in the latency runs).",
    )
    parser.add_argument("--partitions", type=int, default=defaults.partitions)
    parser.add_argument(
        "--per-event-events", type=int, default=defaults.per_event_events, help="Per-event run size."
    )
    parser.add_argument(
        "--latency-rates",
        type=float,
        nargs="+",
        default=list(defaults.latency_rates),
        help="Fixed events/s offered, one latency run each (before the capacity share's run).",
    )
    parser.add_argument(
        "--capacity-share",
        type=float,
        default=defaults.capacity_share,
        help="Then offer this share of the capacity the latency workers measured on the backlog (0: no).",
    )
    parser.add_argument("--latency-seconds", type=float, default=defaults.latency_seconds)
    parser.add_argument("--memory-customers", type=int, default=defaults.memory_customers)
    parser.add_argument("--memory-days", type=int, default=defaults.memory_days)
    parser.add_argument(
        "--dedupe-capacity",
        type=int,
        default=defaults.settings.dedupe_capacity,
        help="Event ids each profile keeps against producer repeats in the memory step "
        "(default SIGNALBANK_DEDUPE_CAPACITY, which the workers read).",
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=list(defaults.workers), help="Worker counts to run."
    )
    parser.add_argument(
        "--profile-events", type=int, default=defaults.profile_events, help="Events of the profiled run."
    )
    parser.add_argument(
        "--spy-seconds",
        type=float,
        default=defaults.spy_seconds,
        help="py-spy the worker this long (0: not).",
    )
    parser.add_argument(
        "--latency-workers", type=int, default=defaults.latency_workers, help="Workers in the latency runs."
    )
    parser.add_argument(
        "--cluster-masters",
        type=int,
        default=defaults.cluster_masters,
        help="Masters of the local Redis Cluster one worker also runs on (0: no cluster run).",
    )
    parser.add_argument(
        "--memory-only", action="store_true", help="Only measure Redis memory per profile (no Kafka)."
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    args = parser.parse_args(argv)
    options = BenchOptions(
        events=args.events,
        customers=args.customers,
        seed=args.seed,
        fraud_share=args.fraud_share,
        partitions=args.partitions,
        per_event_events=args.per_event_events,
        latency_rates=tuple(args.latency_rates),
        capacity_share=args.capacity_share,
        latency_seconds=args.latency_seconds,
        memory_customers=args.memory_customers,
        memory_days=args.memory_days,
        workers=tuple(args.workers),
        profile_events=args.profile_events,
        spy_seconds=args.spy_seconds,
        latency_workers=args.latency_workers,
        cluster_masters=args.cluster_masters,
        memory_only=args.memory_only,
        settings=defaults.settings.model_copy(update={"dedupe_capacity": args.dedupe_capacity}),
    )
    return options, args.json


def main(argv: Sequence[str] | None = None) -> None:
    options, json_path = parse(argv)
    report = run(options)
    print(render(report))
    if json_path is not None:
        json_path.write_text(json.dumps(asdict(report), indent=2, default=str))


if __name__ == "__main__":
    main()
