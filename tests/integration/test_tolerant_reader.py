"""A producer that adds a field keeps its events flowing: a real worker on a real broker ignores the
field, counts it by name, and never writes its value to the log; a topic made strict dead-letters it.

On a broker of its own: the end-to-end test counts every input and output on the session broker.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.catalog import CUSTOMERS, DEAD_LETTERS, TRANSACTIONS
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from tests.support.kafka_io import collect, produce
from tests.support.workers import running_worker

SECRET = "DEVICE-7781-SECRET"  # the value of the new field: must appear nowhere but in the event


def wait_for(condition: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s"
        time.sleep(0.1)
    return value


@pytest.fixture
def worker(
    own_broker: EmbeddedKafka, redis_server: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WorkerProcess]:
    monkeypatch.setenv("SIGNALBANK_STRICT_TOPICS", CUSTOMERS)  # the worker copies the environment
    with running_worker(
        own_broker.url, own_broker.bootstrap, redis_server.url, name="tolerant", partitions=2
    ) as process:
        yield process


def test_an_event_with_a_new_field_is_processed_and_the_field_counted(
    own_broker: EmbeddedKafka, worker: WorkerProcess
) -> None:
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    deposit = {
        "event_id": "NEWFIELD-1",
        "customer_id": "NEWFIELD",
        "occurred_at": at,
        "account_id": "NEWFIELD-A",
        "kind": "deposit",
        "amount": "250.00",
        "currency": "EUR",
        "channel": "mobile",
        "wallet": SECRET,
    }
    master = {"event_id": "NEWFIELD-M", "customer_id": "NEWFIELD", "occurred_at": at, "wallet": SECRET}
    produce(
        own_broker.bootstrap,
        [
            (TRANSACTIONS, b"NEWFIELD", json.dumps(deposit).encode()),
            (CUSTOMERS, b"NEWFIELD", json.dumps(master).encode()),  # strict here: a dead letter
        ],
    )
    wait_for(lambda: total(scrape(worker.metrics_url), "signalbank_events_total") >= 2, "events read")
    samples = scrape(worker.metrics_url)
    assert total(samples, "signalbank_events_total", topic=TRANSACTIONS, outcome="processed") == 1
    assert total(samples, "signalbank_unknown_fields_total", topic=TRANSACTIONS, field="wallet") == 1
    assert total(samples, "signalbank_unknown_fields_total", topic=CUSTOMERS) == 0  # rejected, not counted
    assert total(samples, "signalbank_dead_letters_total", topic=CUSTOMERS, reason="invalid") == 1

    seen = collect(own_broker.bootstrap, lambda seen: bool(seen[DEAD_LETTERS]), timeout=30.0, settle=0.5)
    [letter] = seen[DEAD_LETTERS]
    assert letter["source_topic"] == CUSTOMERS
    assert [(e["loc"], e["kind"]) for e in letter["errors"]] == [("wallet", "extra_forbidden")]
    assert SECRET not in worker.log_path.read_text(errors="replace")
