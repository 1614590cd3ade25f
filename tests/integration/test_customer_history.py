"""Tags gained and lost and the customer's timeline, through a real worker on the embedded broker and Redis.

A customer logs in often (``digital_first`` gained), then only pays by card 35 days later (lost):
exactly two tag signals, and the same events delivered again make no new one. The worker's customer
page then shows the tag set, the tier since when, the last events (bounded by the setting) and the
outputs it sent.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from schemas.catalog import OUTPUT_TOPICS, SIGNALS
from streams.access import token_line
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from tests.support.churn_models import use_rules_only
from tests.support.kafka_io import collect, produce
from tests.support.story import Message, encoded, interaction, master, txn
from tests.support.workers import running_worker

TOKEN = "history-token"
CUSTOMER = "TAGGY"
TIMELINE_EVENTS = 5


@pytest.fixture
def worker(
    own_broker: EmbeddedKafka,
    redis_server: EmbeddedRedis,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[WorkerProcess]:
    use_rules_only(tmp_path_factory.mktemp("model"), monkeypatch)
    monkeypatch.setenv("SIGNALBANK_TIMELINE_EVENTS", str(TIMELINE_EVENTS))
    with running_worker(
        own_broker.url,
        own_broker.bootstrap,
        redis_server.url,
        name="history",
        partitions=4,
        web_tokens=token_line("staff", TOKEN),
    ) as process:
        yield process


def send(kafka: EmbeddedKafka, worker: WorkerProcess, messages: list[Message], read_before: int) -> int:
    """Produce ``messages`` and wait until the worker has read them; how many it has read then."""
    count = read_before + produce(
        kafka.bootstrap,
        [(topic, body["customer_id"].encode(), encoded((topic, body))) for topic, body in messages],
    )
    deadline = time.monotonic() + 60
    while total(scrape(worker.metrics_url), "signalbank_events_total") < count:
        assert time.monotonic() < deadline, f"worker did not read {count} events"
        time.sleep(0.05)
    return count


def tag_signals(kafka: EmbeddedKafka, expected: int) -> list[dict[str, Any]]:
    """Every tag signal about the customer on the signals topic, once ``expected`` were seen."""

    def mine(seen: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        return [s for s in seen[SIGNALS] if s["customer_id"] == CUSTOMER and s["kind"] == "tag"]

    return mine(collect(kafka.bootstrap, lambda seen: len(mine(seen)) >= expected, timeout=60))


def page(worker: WorkerProcess) -> dict[str, Any]:
    base = worker.metrics_url.rsplit("/", 1)[0]
    request = urllib.request.Request(
        f"{base}/customers/{CUSTOMER}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_a_tag_gained_then_lost_gives_two_signals_and_the_page_shows_the_history(
    own_broker: EmbeddedKafka, worker: WorkerProcess
) -> None:
    kafka_server = own_broker
    first = [master(CUSTOMER, consent=False)]
    logins = [interaction(CUSTOMER, f"login{day}", day, "login") for day in range(1, 11)]
    cards = [txn(CUSTOMER, f"card{day}", day, "card_payment", "42.00", "900.00") for day in (45, 46, 47)]
    # one topic at a time, in event-time order, as live traffic arrives (Kafka orders per partition)
    read = send(kafka_server, worker, first, 0)
    read = send(kafka_server, worker, logins, read)
    read = send(kafka_server, worker, cards, read)
    active = [*first, *logins]

    signals = tag_signals(kafka_server, 2)
    digital = [s for s in signals if s["tag"] == "digital_first"]
    assert [(s["tag_change"], s["trigger_event_id"]) for s in digital] == [
        ("gained", f"{CUSTOMER}-login8"),  # the 8th login in 30 days
        ("lost", f"{CUSTOMER}-card45"),  # no login in the last 30 days
    ]
    assert len({s["signal_id"] for s in digital}) == 2

    # every event again (a producer repeating itself, or a replay of the topic): no new change
    read = send(kafka_server, worker, [*active, *cards], read)
    again = [s for s in tag_signals(kafka_server, 2) if s["tag"] == "digital_first"]
    assert {s["signal_id"] for s in again} == {s["signal_id"] for s in digital}
    assert total(scrape(worker.metrics_url), "signalbank_events_total", outcome="duplicate") == len(
        active
    ) + len(cards)

    view = page(worker)
    assert "digital_first" not in view["tags"] and view["tags"] == sorted(view["tags"])
    assert view["tier"] is not None and view["tier"]["since"] == "2026-01-05T09:00:00Z"  # the first event
    assert [e["id"] for e in view["timeline"]] == [
        f"{CUSTOMER}-card47",
        f"{CUSTOMER}-card46",
        f"{CUSTOMER}-card45",
        f"{CUSTOMER}-login10",
        f"{CUSTOMER}-login9",
    ]
    assert view["timeline"][0]["summary"] == "card_payment 42.00 EUR"
    assert view["timeline"][3] == {
        "at": "2026-01-15T11:00:00Z",
        "kind": "interaction",
        "id": f"{CUSTOMER}-login10",
        "summary": "login mobile",
    }
    listed = {o["id"]: o for o in view["outputs"]}
    for signal in digital:
        entry = listed[signal["signal_id"]]
        assert (entry["topic"], entry["kind"], entry["response"]) == (SIGNALS, "signal", None)
        assert entry["summary"] == f"tag {signal['tag_change']} digital_first"
    assert [o["at"] for o in view["outputs"]] == sorted((o["at"] for o in view["outputs"]), reverse=True)
    assert {o["topic"] for o in view["outputs"]} <= set(OUTPUT_TOPICS)
