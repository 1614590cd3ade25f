"""docker-compose.yml against the code: the topics the stack creates come from the catalogue, the
Prometheus it runs scrapes the services that serve metrics and loads the alert rules, and every metric
the dashboard and the alerts read is one the worker exposes. The embedded broker creates topics on
first write, so without these checks a topic or a metric missing from the stack goes unnoticed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType

from agents.metrics import Metrics
from schemas.catalog import TOPIC_MODELS
from streams.dev.embedded import EmbeddedKafka
from streams.kafka.topics import topic_specs

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS_DIR = ROOT / "docs" / "ops" / "prometheus"
DASHBOARD = ROOT / "docs" / "ops" / "grafana" / "dashboards" / "signalbank.json"
_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"][name]
    return found


def environment(name: str) -> dict[str, str]:
    """A service's environment with ``${VAR:-default}`` as Compose resolves it in a bare shell."""
    return {key: _DEFAULT.sub(r"\2", str(value)) for key, value in service(name)["environment"].items()}


def test_topics_init_runs_the_catalogue_command_from_the_signalbank_image() -> None:
    init, worker = service("topics-init"), service("worker")
    assert init["command"] == ["signalbank", "topics", "create"]
    assert (init["image"], init["build"]) == (worker["image"], worker["build"])
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    for user in ("worker", "simulator"):
        assert service(user)["depends_on"]["topics-init"]["condition"] == "service_completed_successfully"


def test_no_topic_is_listed_by_hand_in_the_compose_file() -> None:
    """A hand-made list is what forgot three topics: the names must only come from the catalogue."""
    text = COMPOSE.read_text()
    assert [name for name in TOPIC_MODELS if name in text] == []
    assert "kafka-topics.sh --create" not in text and "--create" not in text


def test_the_init_command_creates_every_catalogue_topic_as_the_catalogue_says() -> None:
    """The topics-init service's own command and environment (broker address aside), on a real broker."""
    env = {**environment("topics-init")}
    with EmbeddedKafka() as broker:
        env["SIGNALBANK_KAFKA_URL"] = broker.url
        command = service("topics-init")["command"]
        assert command[0] == "signalbank"
        result = subprocess.run(
            [sys.executable, "-m", "streams", *command[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **env},
        )
        assert result.returncode == 0, result.stdout + result.stderr
        partitions = int(env["SIGNALBANK_PARTITIONS"])
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        try:
            described = partitions_of(broker.bootstrap, list(TOPIC_MODELS))
            wanted = {spec.name: spec.partitions_for(partitions) for spec in topic_specs()}
            assert described == wanted
            assert set(wanted) == set(TOPIC_MODELS)
            configs = configs_of(admin, list(TOPIC_MODELS))
        finally:
            admin.close()
    lines = {line.split(": ", 1)[0]: line for line in result.stdout.splitlines() if ": " in line}
    for spec in topic_specs():
        settings = " ".join(f"{key}={value}" for key, value in spec.configs().items())
        assert lines[spec.name] == (
            f"{spec.name}: {spec.partitions_for(partitions)} partitions, "
            f"replication {env['SIGNALBANK_REPLICATION_FACTOR']}, {settings}"
        )
        if configs is not None:  # a broker that reports topic configs: they are the catalogue's
            assert {key: configs[spec.name].get(key) for key in spec.configs()} == spec.configs(), spec.name


def partitions_of(bootstrap: str, names: list[str]) -> dict[str, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return {name: len(consumer.partitions_for_topic(name) or ()) for name in names}
    finally:
        consumer.close()


def configs_of(admin: KafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]] | None:
    """Topic configs as the broker reports them; None when it reports none (the embedded Tansu
    answers DescribeConfigs with empty lists)."""
    answer = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
    configs: dict[str, dict[str, str]] = {
        name: dict(values) for name, values in answer.get("topic", {}).items()
    }
    return configs if any(configs.values()) else None


def test_prometheus_scrapes_the_worker_service_on_its_web_port_and_loads_the_alert_rules() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    services = compose()["services"]
    worker_port = int(environment("worker")["SIGNALBANK_WEB_PORT"])
    assert str(worker_port) in [str(port) for port in service("worker")["expose"]]

    scraped: dict[str, int] = {}
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            for name in sd["names"]:
                assert name in services, f"job {job['job_name']} scrapes {name}, which is no Compose service"
                scraped[name] = sd["port"]
    # every service of the signalbank image that serves /metrics (the workers) is scraped
    serving = {
        name
        for name, spec in services.items()
        if spec.get("image") == service("worker")["image"] and spec.get("expose")
    }
    assert serving == {"worker"}
    assert scraped == {"worker": worker_port}
    assert [job["job_name"] for job in config["scrape_configs"] if job.get("dns_sd_configs")] == [
        "signalbank-worker"
    ]

    prometheus = service("prometheus")
    mount = next(v for v in prometheus["volumes"] if v.startswith("./docs/ops/prometheus:"))
    target = mount.split(":")[1]
    assert f"--config.file={target}/prometheus.yml" in " ".join(prometheus["command"])
    assert config["rule_files"] == ["alerts.yml"]
    assert all((PROMETHEUS_DIR / path).is_file() for path in config["rule_files"])


def exposed_names() -> set[str]:
    """Every sample name the worker's registry exposes, with Prometheus' suffixes."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    return {
        family.name + suffix for family in Metrics().registry.collect() for suffix in suffixes[family.type]
    }


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bsignalbank_[a-z_]+\b", expr))


def dashboard_exprs() -> list[str]:
    exprs: list[str] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            walk(panel.get("panels", []))
            exprs.extend(target["expr"] for target in panel.get("targets", []) if target.get("expr"))

    walk(json.loads(DASHBOARD.read_text())["panels"])
    return exprs


def alert_exprs() -> list[str]:
    groups = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


@pytest.mark.parametrize("source", ["dashboard", "alerts"])
def test_every_metric_the_dashboard_and_the_alerts_read_is_exposed_by_the_worker(source: str) -> None:
    exprs = dashboard_exprs() if source == "dashboard" else alert_exprs()
    used = set().union(*(metric_names(expr) for expr in exprs))
    assert used, "no signalbank metric found: the parsing is broken"
    assert used - exposed_names() == set()


def test_the_dashboard_shows_the_consumer_lag() -> None:
    assert any("signalbank_consumer_lag" in expr for expr in dashboard_exprs())


OPERATIONS = ROOT / "docs" / "operations.md"


def test_the_operations_guide_lists_every_topic_as_it_is_created() -> None:
    rows = {
        cells[0].strip("`"): cells
        for line in OPERATIONS.read_text().splitlines()
        if line.startswith("| `") and len(cells := [c.strip() for c in line.strip("|").split("|")]) == 5
    }
    for spec in topic_specs():
        _, _, partitions, cleanup, retention = rows[spec.name]
        assert partitions == (str(spec.partitions) if spec.partitions else "`SIGNALBANK_PARTITIONS`")
        assert cleanup == ("compact" if spec.compacted else "delete")
        days = None if spec.retention_ms is None else spec.retention_ms // 86_400_000
        assert retention == ("latest per key" if days is None else f"{days} days"), spec.name


def test_every_alert_has_its_runbook_section() -> None:
    headings = {line[4:].strip() for line in OPERATIONS.read_text().splitlines() if line.startswith("### ")}
    groups = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"]
    for rule in (rule for group in groups for rule in group["rules"]):
        assert rule["alert"] in headings
        assert rule["annotations"]["runbook"] == f"docs/operations.md#{rule['alert'].lower()}"
        assert rule["labels"]["severity"] in {"page", "ticket"}
