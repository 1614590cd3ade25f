"""A real worker alerts on a customer who went quiet, though no event about them arrives any more.

On a broker of its own: the end-to-end test counts every input and output on the session broker,
and this worker would read that test's story too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from agents.silence import check_id
from schemas.catalog import CHURN_ALERTS, TRANSACTIONS
from sinks.redis.keys import schedule_key
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from tests.support.churn_models import use_rules_only
from tests.support.kafka_io import collect, produce
from tests.support.workers import running_worker

CUSTOMER = "SILENT"


def salary(n: int, at: datetime) -> tuple[str, bytes, bytes]:
    body = {
        "event_id": f"{CUSTOMER}-sal{n}",
        "customer_id": CUSTOMER,
        "occurred_at": at.isoformat(),
        "account_id": f"{CUSTOMER}-A",
        "kind": "salary_credit",
        "amount": "2000.00",
        "currency": "EUR",
        "channel": "mobile",
        "balance_after": f"{3000 + 100 * n}.00",
    }
    return TRANSACTIONS, CUSTOMER.encode(), json.dumps(body).encode()


def wait_for(condition: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s"
        time.sleep(0.1)
    return value


@pytest.fixture
def worker(
    own_broker: EmbeddedKafka,
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    monkeypatch.setenv("SIGNALBANK_CHECK_INTERVAL_S", "0.5")  # the worker copies the environment
    use_rules_only(tmp_path_factory.mktemp("model"), monkeypatch)  # the alert is the rule's own
    with running_worker(
        own_broker.url, own_broker.bootstrap, redis_server.url, name="silence", partitions=4
    ) as process:
        yield process


def test_worker_timer_alerts_when_the_salary_stopped_40_days_ago(
    own_broker: EmbeddedKafka, redis_server: EmbeddedRedis, worker: WorkerProcess
) -> None:
    now = datetime.now(UTC)
    last = now - timedelta(days=40)  # paid twice a month, then nothing at all for 40 days
    sent = produce(own_broker.bootstrap, [salary(n, last - timedelta(days=15 * (4 - n))) for n in range(5)])
    wait_for(lambda: total(scrape(worker.metrics_url), "signalbank_events_total") >= sent, "events read")

    client = redis.Redis.from_url(redis_server.url)
    try:
        # The worker scheduled the check; it holds back one grace period after processing, since
        # a history arriving late could still be followed by more of it. Let that hour pass:
        scheduled = wait_for(lambda: client.zscore(schedule_key(CUSTOMER), CUSTOMER), "check scheduled")
        assert scheduled > time.time() * 1000
        client.zadd(schedule_key(CUSTOMER), {CUSTOMER: time.time() * 1000}, xx=True)

        seen = collect(
            own_broker.bootstrap,
            lambda seen: any(a["customer_id"] == CUSTOMER for a in seen[CHURN_ALERTS]),
            timeout=30.0,
            settle=1.0,
        )
        [alert] = [a for a in seen[CHURN_ALERTS] if a["customer_id"] == CUSTOMER]
        assert [r["rule_id"] for r in alert["reasons"]] == ["churn.salary_stopped"]
        last_ms = int(last.timestamp() * 1000)
        assert alert["trigger_event_id"] == check_id(last_ms, int(time.time() * 1000), timedelta(days=1))
        assert total(scrape(worker.metrics_url), "signalbank_events_total") == sent  # no event did this
        # checked, then rescheduled a day later at the same time of day as the last activity
        assert wait_for(
            lambda: client.zscore(schedule_key(CUSTOMER), CUSTOMER) == last_ms + 41 * 86_400_000,
            "rescheduled",
        )
    finally:
        client.close()
