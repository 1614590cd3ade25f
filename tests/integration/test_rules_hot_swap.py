"""Hot rule updates on a running worker: switch without restart, refuse invalid rules, restart on the
published ruleset. Real worker process, broker of its own (the control topic is global to a broker)."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from rules.load.problems import RulesetError
from rules.load.ruleset import load_sources
from schemas.catalog import SIGNALS, TRANSACTIONS
from schemas.control import RuleSource
from streams.control.publication import publication_of, publish
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from streams.kafka.admin import create_topics
from tests.support.kafka_io import collect, produce
from tests.support.rule_texts import BROKEN, SECOND, SEEN


def transaction(customer: str) -> tuple[str, bytes, bytes]:
    body = {
        "event_id": f"{customer}-t1",
        "customer_id": customer,
        "occurred_at": "2026-03-01T10:00:00+00:00",
        "account_id": f"{customer}-A",
        "kind": "card_payment",
        "amount": "12.50",
        "currency": "EUR",
        "channel": "pos",
    }
    return TRANSACTIONS, customer.encode(), json.dumps(body).encode()


def publish_files(bootstrap: str, *files: tuple[str, str]) -> None:
    """Publish files without validating them first (as a buggy publisher might)."""
    template = publication_of(load_sources([("seen.yaml", SEEN)]), [("seen.yaml", SEEN)])
    try:
        version = load_sources(list(files)).version
    except RulesetError:
        version = "invalid"
    sources = [RuleSource(name=n, text=t) for n, t in files]
    record = template.model_copy(update={"version": version, "files": sources})
    publish(bootstrap, record)


def signals_for(bootstrap: str, customer: str, wanted: set[str]) -> dict[str, str]:
    """rule id -> ruleset version of the signals ``customer`` got, once all ``wanted`` rules fired."""

    def mine(seen: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
        return {s["rule_id"]: s["ruleset_version"] for s in seen[SIGNALS] if s["customer_id"] == customer}

    seen = collect(bootstrap, lambda seen: wanted <= set(mine(seen)), timeout=30, settle=0.5)
    return mine(seen)


def metric(worker: WorkerProcess, name: str, **labels: str) -> float:
    return total(scrape(worker.metrics_url), name, **labels)


def active_versions(worker: WorkerProcess) -> dict[str, float]:
    info = scrape(worker.metrics_url).get("signalbank_ruleset_info", {})
    return {dict(labels)["version"]: value for labels, value in info.items()}


def health_version(worker: WorkerProcess) -> str:
    base = worker.metrics_url.rsplit("/", 1)[0]
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
        return str(json.loads(response.read())["ruleset"])


def eventually(check: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"{what} not within {timeout}s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_published_rules_apply_without_restart_and_survive_one(
    own_broker: EmbeddedKafka, redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/5"
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    (tmp_path / "seen.yaml").write_text(SEEN)
    v1 = load_sources([("seen.yaml", SEEN)]).version
    v2 = load_sources([("seen.yaml", SEEN), ("second.yaml", SECOND)]).version
    bootstrap = own_broker.bootstrap
    create_topics(bootstrap, partitions=2)
    app_id = f"hot-{os.getpid()}"

    worker = WorkerProcess(own_broker.url, redis_url, partitions=2, rules_dir=tmp_path, app_id=app_id)
    worker.start()
    try:
        worker.wait_ready()
        assert health_version(worker) == v1  # nothing published: the folder
        produce(bootstrap, [transaction("A1")])
        assert signals_for(bootstrap, "A1", {"tag.seen"}) == {"tag.seen": v1}

        # A valid publication: the running worker switches, and the next events use the new rule.
        publish_files(bootstrap, ("seen.yaml", SEEN), ("second.yaml", SECOND))
        took = eventually(lambda: active_versions(worker) == {v2: 1.0}, 15, "switch to the published ruleset")
        assert took < 10
        assert health_version(worker) == v2
        assert metric(worker, "signalbank_ruleset_updates_total") == 1
        produce(bootstrap, [transaction("B1")])
        assert signals_for(bootstrap, "B1", {"tag.seen", "tag.second"}) == {"tag.seen": v2, "tag.second": v2}

        # An invalid publication: counted, logged, never applied; the worker keeps processing on v2.
        publish_files(bootstrap, ("seen.yaml", BROKEN), ("second.yaml", SECOND))
        eventually(lambda: metric(worker, "signalbank_ruleset_rejected_total") == 1, 15, "rejection")
        assert active_versions(worker) == {v2: 1.0}
        produce(bootstrap, [transaction("C1")])
        assert signals_for(bootstrap, "C1", {"tag.second"})["tag.second"] == v2
        assert "seen.yaml:6:19: rules.0.when: unknown field profile.nope" in worker.log_path.read_text()
    finally:
        worker.stop()

    # A restarted worker starts on the latest valid publication, not on its rules folder.
    restarted = WorkerProcess(own_broker.url, redis_url, partitions=2, rules_dir=tmp_path, app_id=app_id)
    restarted.start()
    try:
        restarted.wait_ready()
        assert health_version(restarted) == v2
        assert active_versions(restarted) == {v2: 1.0}
        assert metric(restarted, "signalbank_ruleset_rejected_total") == 1  # the newest record
        produce(bootstrap, [transaction("D1")])
        assert signals_for(bootstrap, "D1", {"tag.seen", "tag.second"}) == {"tag.seen": v2, "tag.second": v2}
    finally:
        restarted.stop()
