"""``signalbank dev``: the whole pipeline on embedded servers, with simulated traffic, in one command.

The worker runs as a real ``signalbank worker`` subprocess (exactly what production runs); the
simulator, the output printer and the rules-folder watcher are threads of this process. Rule edits
reach the worker the production way: published to the control topic, no restart. The summary comes
from the worker's own /metrics page, so what it prints is what operators would see.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rules.load.ruleset import Ruleset
from schemas.catalog import CHURN_ALERTS, DEAD_LETTERS, INPUT_TOPICS, OFFERS
from streams.access import new_token, token_line
from streams.control.publication import load_paths, publication_of, publish
from streams.control.watcher import RulesWatcher
from streams.dev.console import OutputPrinter
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis, free_port
from streams.dev.responder import OfferResponder
from streams.dev.scrape import scrape, total
from streams.dev.supervision import BrokerLost, DevSupervisor
from streams.kafka.admin import bootstrap_of, create_topics
from streams.sim.generator import generate
from streams.sim.produce import produce
from streams.sim.scenario import Scenario


@dataclass(frozen=True)
class DevOptions:
    seconds: float | None
    kafka_url: str | None
    redis_url: str | None
    scenario: Scenario
    rate: float | None
    partitions: int
    rules_dir: Path  # the rules folder the worker runs (published, and watched for edits)


class WorkerProcess:
    """A ``signalbank worker`` child process with its own web port and log file."""

    def __init__(
        self,
        kafka_url: str,
        redis_url: str,
        partitions: int,
        rules_dir: Path | None,
        app_id: str | None = None,
        web_tokens: str = "",
    ) -> None:
        self.web_port = free_port()
        self.log_path = Path(tempfile.mkstemp(prefix="signalbank-worker-", suffix=".log")[1])
        self._env = {
            **os.environ,
            "SIGNALBANK_KAFKA_URL": kafka_url,
            "SIGNALBANK_REDIS_URL": redis_url,
            "SIGNALBANK_WEB_PORT": str(self.web_port),
            "SIGNALBANK_WEB_BIND": "127.0.0.1",
            "SIGNALBANK_PARTITIONS": str(partitions),
            "SIGNALBANK_APP_ID": app_id or f"signalbank-dev-{os.getpid()}",
            "SIGNALBANK_DATA_DIR": tempfile.mkdtemp(prefix="signalbank-data-"),
        }
        if web_tokens:  # user:sha256hex logins to the customer pages (streams.access)
            self._env["SIGNALBANK_WEB_TOKENS"] = web_tokens
        if rules_dir is not None:
            self._env["SIGNALBANK_RULES_DIR"] = str(rules_dir)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/metrics"

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "streams", "worker", "-l", "info"],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def events_read(self) -> float:
        """Input events the worker has taken so far, whatever became of them (its own metrics)."""
        return total(scrape(self.metrics_url), "signalbank_events_total")

    @property
    def pid(self) -> int:
        """Process id of the running worker (for a profiler to attach to)."""
        if self._process is None:
            raise RuntimeError("the worker is not running")
        return self._process.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"worker exited early:\n{self.log_tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                scrape(self.metrics_url)
                return
            time.sleep(0.2)
        raise TimeoutError(f"worker web server not up within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown, no final offset commit."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return process.returncode


def _counts(worker: WorkerProcess) -> dict[str, float]:
    samples = scrape(worker.metrics_url)
    counts = {
        f"read:{topic}": total(samples, "signalbank_events_total", topic=topic) for topic in INPUT_TOPICS
    }
    counts["read"] = total(samples, "signalbank_events_total")
    for outcome in ("processed", "duplicate", "dead_letter"):
        counts[outcome] = total(samples, "signalbank_events_total", outcome=outcome)
    counts["alerts"] = total(samples, "signalbank_churn_alerts_total")
    counts["offers"] = total(samples, "signalbank_offers_total")
    counts["responses"] = total(samples, "signalbank_offer_responses_total")
    return counts


def _publish_folder(
    folder: Path,
    ruleset: Ruleset,
    sources: Sequence[tuple[str, str]],
    bootstrap: str,
    emit: Callable[[str], None],
) -> RulesWatcher:
    """Publish the folder's rules (so the worker runs exactly them) and return its watcher."""

    def publish_ruleset(ruleset: Ruleset, sources: Sequence[tuple[str, str]]) -> None:
        publish(bootstrap, publication_of(ruleset, sources))

    publish_ruleset(ruleset, sources)
    emit(f"rules: published {ruleset.version} from {folder} (edits there are published as you save)")
    return RulesWatcher(folder, publish_ruleset, emit, published=sources, version=ruleset.version)


def run_dev(options: DevOptions, emit: Callable[[str], None] = print) -> int:
    """Run until ``seconds`` pass or Ctrl-C; return the exit code (non-zero if the pipeline failed).

    An invalid rules folder raises RulesetError before any server starts (the command line reports it
    like every command's invalid rules).
    """
    folder = options.rules_dir
    ruleset, sources = load_paths([folder])
    servers: list[EmbeddedKafka | EmbeddedRedis] = []
    broker: EmbeddedKafka | None = None
    redis: EmbeddedRedis | None = None
    supervisor: DevSupervisor[WorkerProcess] | None = None
    printer: OutputPrinter | None = None
    watcher: RulesWatcher | None = None
    stop = threading.Event()
    produced: dict[str, int] = {}
    try:
        kafka_url = options.kafka_url
        if kafka_url is None:
            broker = EmbeddedKafka().start()
            servers.append(broker)
            kafka_url = broker.url
            emit(f"embedded Kafka-compatible broker (Tansu) on {broker.bootstrap}")
        redis_url = options.redis_url
        if redis_url is None:
            # persistent, so a Redis killed mid-run comes back with its profiles (see supervision.py)
            redis = EmbeddedRedis(persistent=True, fsync="everysec").start()
            servers.append(redis)
            redis_url = redis.url
            emit(f"embedded Redis on {redis_url}")
        bootstrap = bootstrap_of(kafka_url)
        create_topics(bootstrap, options.partitions)
        if options.kafka_url is not None:
            emit("note: rules are published to this broker's signalbank.rules.v1: every worker on it follows")
        watcher = _publish_folder(folder, ruleset, sources, bootstrap, emit)
        group = f"signalbank-dev-{os.getpid()}"
        token = new_token()  # a login to the customer pages for this run; only its hash goes to the worker

        def start_worker() -> WorkerProcess:
            worker = WorkerProcess(
                kafka_url, redis_url, options.partitions, folder, group, web_tokens=token_line("dev", token)
            )
            worker.start()
            worker.wait_ready()
            emit(f"worker up: metrics at {worker.metrics_url} (log {worker.log_path})")
            base = worker.metrics_url.rsplit("/", 1)[0]
            emit(f"staff page: {base}/staff/#C000001 (log in as dev with the token {token})")
            emit(f"customer pages: curl -H 'Authorization: Bearer {token}' {base}/customers/C000001")
            return worker

        supervisor = DevSupervisor(emit, start_worker, redis, broker)
        watcher.start()
        responder = OfferResponder(bootstrap)
        printer = OutputPrinter(bootstrap, emit, responder)
        printer.start()

        def simulate() -> None:
            produced.update(produce(generate(options.scenario), bootstrap, options.rate, stop))

        simulator = threading.Thread(target=simulate, name="simulator", daemon=True)
        simulator.start()
        emit(
            f"simulating {options.scenario.customers} customers over {options.scenario.days} days "
            f"at {options.rate or 'max'} events/s; Ctrl-C to stop"
        )
        deadline = time.monotonic() + options.seconds if options.seconds else None
        try:
            while deadline is None or time.monotonic() < deadline:
                supervisor.poll()
                time.sleep(0.2)
        except KeyboardInterrupt:
            emit("stopping ...")
        stop.set()
        simulator.join(timeout=30)
        supervisor.wait_until_committed(bootstrap, group, sum(produced.values()), timeout=60)
        responder.close()  # answers nothing from now on; what it sent counts as produced
        for kind, count in sorted(responder.counts.items()):
            produced[f"answers: {kind}"] = count
        committed = supervisor.wait_until_committed(bootstrap, group, sum(produced.values()), timeout=60)
        time.sleep(1.0)  # let the last batch finish and the printer catch up with its outputs
        return _summary(emit, produced, _counts(supervisor.worker), printer, committed, supervisor)
    except BrokerLost as exc:
        emit(str(exc))
        return 1
    finally:
        stop.set()
        # Every step runs even if an earlier one fails: no orphan worker, broker or Redis.
        with contextlib.suppress(Exception):
            if printer is not None and printer.is_alive():
                printer.stop()
        with contextlib.suppress(Exception):
            if watcher is not None and watcher.is_alive():
                watcher.stop()
        if supervisor is not None:
            supervisor.worker.stop()
        for server in reversed(servers):
            server.stop()


def _summary(
    emit: Callable[[str], None],
    produced: dict[str, int],
    counts: dict[str, float],
    printer: OutputPrinter,
    committed: int,
    supervisor: DevSupervisor[WorkerProcess],
) -> int:
    sent = sum(produced.values())
    restarts = supervisor.worker_restarts
    emit("")
    emit("summary" + (f" (counts of the last of {restarts + 1} workers)" if restarts else ""))
    emit(f"  produced            {sent:>9}")
    for topic in INPUT_TOPICS:
        emit(f"  read {topic:<24} {counts[f'read:{topic}']:>9.0f}")
    emit(f"  read (all topics)   {counts['read']:>9.0f}")
    emit(f"  processed           {counts['processed']:>9.0f}")
    emit(f"  duplicates          {counts['duplicate']:>9.0f}")
    emit(f"  dead-lettered       {counts['dead_letter']:>9.0f}")
    emit(f"  churn alerts        {counts['alerts']:>9.0f}  (printed {printer.counts[CHURN_ALERTS]})")
    emit(f"  offers              {counts['offers']:>9.0f}  (printed {printer.counts[OFFERS]})")
    for name in sorted(k for k in produced if k.startswith("answers: ")):
        emit(f"  {'simulated ' + name[9:]:<19} {produced[name]:>9}")
    emit(f"  offer responses     {counts['responses']:>9.0f}  (signalbank_offer_responses_total)")
    emit(f"  dead letters out    {printer.counts[DEAD_LETTERS]:>9}")
    emit(f"  committed           {committed:>9}  (consumer group offsets)")
    if restarts or supervisor.redis_restarts:
        emit(f"  restarts            worker {restarts}, Redis {supervisor.redis_restarts}")
    balanced = counts["read"] == counts["processed"] + counts["duplicate"] + counts["dead_letter"]
    complete = committed >= sent and (restarts > 0 or counts["read"] >= sent)
    if not (balanced and complete):
        emit("FAILED: the worker did not account for every event produced")
        return 1
    emit("OK: every event committed; read = processed + duplicates + dead-lettered")
    return 0
