"""Kafka -> worker -> Redis -> rules -> Kafka, on the embedded broker and Redis, with a real worker."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from agents.outputs import stable_id
from rules.load.ruleset import Ruleset
from schemas.catalog import (
    CHURN_ALERTS,
    CUSTOMERS,
    DEAD_LETTERS,
    INTERACTIONS,
    OFFERS,
    OUTPUT_TOPICS,
    SERVICE_ALERTS,
    SIGNALS,
    TRANSACTIONS,
)
from streams.access import token_line
from streams.backtest.replay import ReplayOptions, replay
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from streams.settings import Settings
from tests.support.churn_models import rules_only, use_rules_only
from tests.support.kafka_io import collect, produce
from tests.support.story import EXPECTED_ALERTS, EXPECTED_OFFERS, encoded, story
from tests.support.workers import running_worker

BAD = b'{"event_id": "x-1", "customer_id": "DRIFT", "amount": "-3"}'


def wait_until_read(worker: WorkerProcess, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while total(scrape(worker.metrics_url), "signalbank_events_total") < count:
        assert time.monotonic() < deadline, f"worker did not read {count} events in {timeout}s"
        time.sleep(0.02)


#: The story checks the rules themselves: scored by their noisy-OR (tests/support/churn_models.py).
RULES_ONLY = rules_only()
#: The login the worker accepts on its customer pages (as ``signalbank dev`` gives its worker one).
WEB_TOKEN = "e2e-token"


@pytest.fixture
def rules_only_churn(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``RULES_ONLY`` as the churn model of the workers this test starts."""
    return use_rules_only(tmp_path_factory.mktemp("model"), monkeypatch)


@pytest.fixture
def worker(
    kafka_server: EmbeddedKafka, redis_server: EmbeddedRedis, rules_only_churn: Path
) -> Iterator[WorkerProcess]:
    with running_worker(
        kafka_server.url,
        kafka_server.bootstrap,
        redis_server.url,
        name="e2e",
        partitions=4,
        web_tokens=token_line("e2e", WEB_TOKEN),
    ) as process:
        yield process


def replay_outputs(tmp_path: Path, redis_url: str, ruleset: Ruleset) -> dict[str, dict[str, Any]]:
    """What ``signalbank replay`` makes of the story: output id -> record, per output topic (into an
    emptied database: the cluster story test replays into the same one)."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    files = {
        TRANSACTIONS: "transactions.jsonl",
        INTERACTIONS: "interactions.jsonl",
        CUSTOMERS: "customers.jsonl",
    }
    for topic, name in files.items():
        rows = [json.dumps(body) for t, body in story() if t == topic]
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    options = ReplayOptions(
        files=tuple(tmp_path / name for name in files.values()),
        redis_url=redis_url,
        settings=Settings(),  # the environment the worker of this test reads too
        churn_model=RULES_ONLY,
        out_dir=tmp_path / "out",
        checks=False,  # the worker's timer checks by the wall clock, months after this story
    )
    asyncio.run(replay(options, ruleset))
    found: dict[str, dict[str, Any]] = {}
    for topic in OUTPUT_TOPICS:
        path = tmp_path / "out" / f"{topic}.jsonl"
        records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        found[topic] = {output_id(r): r for r in records}
    return found


def output_id(record: dict[str, Any]) -> str:
    return str(record.get("alert_id") or record.get("offer_event_id") or record.get("signal_id"))


def test_story_through_kafka_gives_exact_outputs_and_the_same_as_replay(
    kafka_server: EmbeddedKafka,
    worker: WorkerProcess,
    ruleset: Ruleset,
    tmp_path: Path,
    redis_server: EmbeddedRedis,
) -> None:
    replayed = replay_outputs(tmp_path, redis_server.url.rsplit("/", 1)[0] + "/1", ruleset)
    messages = story()
    # Live traffic arrives roughly in event-time order on all three topics; a backlog would not
    # (Kafka orders within a partition, not across topics), so feed the story day by day.
    by_day: dict[str, list[tuple[str, bytes | None, bytes]]] = {}
    for topic, body in messages:
        by_day.setdefault(body["occurred_at"][:10], []).append(
            (topic, body["customer_id"].encode(), encoded((topic, body)))
        )
    sent = 0
    for day in sorted(by_day):
        sent += produce(kafka_server.bootstrap, by_day[day])
        wait_until_read(worker, sent)
    duplicate = by_day[sorted(by_day)[1]][0]
    sent += produce(kafka_server.bootstrap, [duplicate, (TRANSACTIONS, b"DRIFT", BAD)])

    def done(seen: dict[str, list[dict[str, Any]]]) -> bool:
        return len(seen[DEAD_LETTERS]) >= 1 and all(
            len({output_id(r) for r in seen[t]}) >= len(replayed[t])
            for t in OUTPUT_TOPICS
            if t != DEAD_LETTERS
        )

    seen = collect(kafka_server.bootstrap, done)
    alerts = sorted(
        (a["trigger_event_id"], a["level"], [r["rule_id"] for r in a["reasons"]]) for a in seen[CHURN_ALERTS]
    )
    assert alerts == sorted(EXPECTED_ALERTS)
    for alert in seen[CHURN_ALERTS]:
        assert alert["alert_id"] == stable_id(
            "alert", alert["customer_id"], alert["trigger_event_id"], ruleset.version
        )
        assert alert["ruleset_version"] == ruleset.version
    offers = sorted((o["trigger_event_id"], o["offer_id"]) for o in seen[OFFERS])
    assert offers == sorted(EXPECTED_OFFERS)

    # Parity: replay runs the same code over the same events and gives the same ids and contents
    # (a re-delivered duplicate may repeat an output, always with its id: compare by id).
    for topic in OUTPUT_TOPICS:
        if topic != DEAD_LETTERS:
            streamed = {output_id(r): r for r in seen[topic]}
            assert streamed == replayed[topic], topic
    assert replayed[CHURN_ALERTS] and replayed[SIGNALS] and replayed[SERVICE_ALERTS]

    [dead] = seen[DEAD_LETTERS]
    assert dead["reason"] == "invalid"
    assert dead["source_topic"] == TRANSACTIONS
    assert base64.b64decode(dead["payload_base64"]) == BAD
    assert {e["loc"] for e in dead["errors"]} >= {"amount", "occurred_at", "kind"}

    samples = scrape(worker.metrics_url)
    assert total(samples, "signalbank_events_total") == sent
    assert total(samples, "signalbank_events_total", outcome="dead_letter") == 1
    assert total(samples, "signalbank_events_total", outcome="duplicate") == 1
    assert total(samples, "signalbank_events_total", outcome="processed") == len(messages)
    assert total(samples, "signalbank_churn_alerts_total", level="high") == 2  # DRIFT-out2, GRUMPY-login57
    assert total(samples, "signalbank_dead_letters_total", reason="invalid") == 1
    assert total(samples, "signalbank_event_processing_seconds_count") == sent
    assert total(samples, "signalbank_redis_call_seconds_count", operation="profile_update") >= 1


def test_worker_answers_health_and_profile_pages(worker: WorkerProcess) -> None:
    import urllib.error
    import urllib.request

    base = worker.metrics_url.rsplit("/", 1)[0]
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
        assert json.loads(response.read())["status"] == "ok"
    with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
        assert json.loads(response.read())["status"] == "ready"
    with pytest.raises(urllib.error.HTTPError) as refused:  # customer data needs a login
        urllib.request.urlopen(f"{base}/customers/NOBODY", timeout=5)
    assert refused.value.code == 401 and refused.value.headers["WWW-Authenticate"].startswith("Bearer")
    login = {"Authorization": f"Bearer {WEB_TOKEN}"}
    with pytest.raises(urllib.error.HTTPError) as unknown:
        urllib.request.urlopen(urllib.request.Request(f"{base}/customers/NOBODY", headers=login), timeout=5)
    assert unknown.value.code == 404
    assert json.loads(unknown.value.read()) == {"error": "no profile for NOBODY"}
