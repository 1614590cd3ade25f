"""A real Prometheus (Debian's ``prometheus``) scrapes a real worker with the stack's alert rules:
the worker's metrics are in Prometheus, and ``SignalbankRedisUnavailable`` fires when Redis is
stopped (after its own ``for:``, unchanged), then resolves once Redis is back.

Without the binary the test is skipped, except in CI (``CI`` set), where it fails: ``.ci/run``
installs the package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis, free_port
from streams.dev.run import WorkerProcess
from streams.kafka.admin import create_topics
from streams.sim.generator import generate
from streams.sim.scenario import Scenario
from tests.support.kafka_io import produce

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "docs" / "ops" / "prometheus" / "alerts.yml"
SCENARIO = Scenario(customers=20, days=20, seed=3, invalid_ratio=0.0).pinned()


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        reason = "Debian's prometheus binary is not installed (apt-get install prometheus)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; in CI it must be (.ci/run installs it)")
        pytest.skip(reason)
    return found


class Prometheus:
    """A Prometheus server on a free loopback port, scraping and evaluating every second."""

    def __init__(self, binary: str, workdir: Path, worker_port: int) -> None:
        self.port = free_port()
        shutil.copy(ALERTS, workdir / "alerts.yml")  # the stack's rules, as they are
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": ["alerts.yml"],
            "scrape_configs": [
                {
                    "job_name": "signalbank-worker",
                    "static_configs": [{"targets": [f"127.0.0.1:{worker_port}"]}],
                }
            ],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log_path = workdir / "prometheus.log"
        self._command = [
            binary,
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(self._command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            assert self._process.poll() is None, f"prometheus exited:\n{self.log_tail()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            assert time.monotonic() < deadline, f"prometheus not ready within 60s:\n{self.log_tail()}"
            time.sleep(0.3)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.port}/api/v1/{path}{query}", timeout=5
        ) as answer:
            body = json.loads(answer.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> dict[str, float]:
        """Instant query: instance (or the whole label set) -> value."""
        result = self.api("query", query=expr)["result"]
        return {json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in result}

    def alert_states(self, name: str) -> list[str]:
        return [a["state"] for a in self.api("alerts")["alerts"] if a["labels"]["alertname"] == name]


@pytest.fixture
def prometheus_path() -> str:
    return prometheus_binary()


def wait_for(condition: Callable[[], bool], timeout: float, what: str, *logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s:\n" + "\n".join(
            f() for f in logs
        )
        time.sleep(0.5)


@pytest.fixture
def stack(
    prometheus_path: str, tmp_path: Path
) -> Iterator[tuple[WorkerProcess, EmbeddedRedis, Prometheus, int]]:
    """A worker with events to process (how many: the last item), and a Prometheus scraping it."""
    with EmbeddedKafka() as broker, EmbeddedRedis(persistent=True) as store:
        create_topics(broker.bootstrap, partitions=2)
        sent = produce(broker.bootstrap, ((e.topic, e.key, e.value) for e in generate(SCENARIO)))
        worker = WorkerProcess(
            broker.url, store.url, partitions=2, rules_dir=None, app_id=f"prom-{os.getpid()}"
        )
        worker.start()
        prometheus = Prometheus(prometheus_path, tmp_path, worker.web_port)
        try:
            worker.wait_ready()
            prometheus.start()
            yield worker, store, prometheus, sent
        finally:
            prometheus.stop()
            worker.stop()


def test_prometheus_scrapes_the_worker_and_fires_the_redis_alert_when_redis_stops(
    stack: tuple[WorkerProcess, EmbeddedRedis, Prometheus, int],
) -> None:
    worker, store, prometheus, sent = stack
    logs = (worker.log_tail, prometheus.log_tail)

    def rules() -> list[dict[str, Any]]:
        return [rule for group in prometheus.api("rules")["groups"] for rule in group["rules"]]

    expected = {
        rule["alert"] for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]
    }
    assert {rule["name"] for rule in rules()} == expected
    # every rule evaluated without error ("unknown" until its first evaluation)
    wait_for(lambda: {rule["health"] for rule in rules()} == {"ok"}, 30, "every rule healthy", *logs)

    # The worker is scraped and its own metrics are there, as the worker shows them.
    wait_for(
        lambda: list(prometheus.query('up{job="signalbank-worker"}').values()) == [1.0], 30, "up 1", *logs
    )
    wait_for(lambda: worker.events_read() == sent, 120, f"the worker done with {sent} events", *logs)
    wait_for(
        lambda: list(prometheus.query("sum(signalbank_events_total)").values()) == [float(sent)],
        30,
        "signalbank_events_total in Prometheus",
        *logs,
    )
    # the lag gauge's series exist once the lag timer has seen the assignment and a scrape took them
    wait_for(
        lambda: prometheus.query("sum(signalbank_consumer_lag)") == {"{}": 0.0}, 30, "consumer lag 0", *logs
    )
    assert list(prometheus.query("signalbank_redis_up").values()) == [1.0]
    # pending at most from a scrape before the worker's first Redis call (the gauge starts at 0),
    # until the next rule evaluation
    wait_for(lambda: prometheus.alert_states("SignalbankRedisUnavailable") == [], 30, "no Redis alert", *logs)

    store.stop(keep_data=True)
    stopped = time.monotonic()
    wait_for(
        lambda: prometheus.alert_states("SignalbankRedisUnavailable") == ["pending"], 60, "pending", *logs
    )
    wait_for(
        lambda: prometheus.alert_states("SignalbankRedisUnavailable") == ["firing"], 120, "firing", *logs
    )
    assert time.monotonic() - stopped >= 60, "fired before its for: 1m"
    [alert] = [a for a in prometheus.api("alerts")["alerts"] if a["state"] == "firing"]
    assert alert["labels"] == {
        "alertname": "SignalbankRedisUnavailable",
        "instance": f"127.0.0.1:{worker.web_port}",
        "severity": "page",
    }

    store.start()
    wait_for(lambda: prometheus.alert_states("SignalbankRedisUnavailable") == [], 90, "resolved", *logs)
    assert worker.alive(), worker.log_tail()
