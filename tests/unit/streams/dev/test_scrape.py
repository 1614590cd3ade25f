"""Reading a /metrics page into numbers: the worker's own registry served over HTTP on loopback,
sums over the samples whose labels match."""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Iterator

import pytest
from prometheus_client import start_http_server

from agents.metrics import Metrics
from streams.dev.embedded import free_port
from streams.dev.scrape import scrape, total


@pytest.fixture
def served() -> Iterator[tuple[Metrics, str]]:
    """A worker's metrics served as a worker serves /metrics (Prometheus text, loopback only)."""
    metrics = Metrics()
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=metrics.registry)
    try:
        yield metrics, f"http://127.0.0.1:{port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_samples_are_read_by_name_and_labels(served: tuple[Metrics, str]) -> None:
    metrics, url = served
    metrics.events.labels("bank.transactions.v1", "processed").inc(5)
    metrics.events.labels("bank.interactions.v1", "processed").inc(2)
    metrics.events.labels("bank.transactions.v1", "dead_letter").inc()
    metrics.batch_size.observe(40)
    metrics.batch_size.observe(400)
    samples = scrape(url)
    assert samples["signalbank_events_total"] == {
        (("outcome", "processed"), ("topic", "bank.transactions.v1")): 5.0,
        (("outcome", "processed"), ("topic", "bank.interactions.v1")): 2.0,
        (("outcome", "dead_letter"), ("topic", "bank.transactions.v1")): 1.0,
    }
    assert total(samples, "signalbank_events_total") == 8.0
    assert total(samples, "signalbank_events_total", outcome="processed") == 7.0
    assert total(samples, "signalbank_events_total", topic="bank.transactions.v1", outcome="processed") == 5.0
    assert total(samples, "signalbank_batch_size_count") == 2.0
    assert total(samples, "signalbank_batch_size_bucket", le="50.0") == 1.0
    assert total(samples, "signalbank_no_such_metric") == 0.0
    assert total(samples, "signalbank_events_total", topic="bank.customers.v1") == 0.0


def test_each_scrape_reads_the_page_anew(served: tuple[Metrics, str]) -> None:
    metrics, url = served
    before = total(scrape(url), "signalbank_ruleset_rejected_total")
    metrics.ruleset_rejected.inc()
    assert (before, total(scrape(url), "signalbank_ruleset_rejected_total")) == (0.0, 1.0)


def test_nothing_listening_fails_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(urllib.error.URLError):
        scrape(f"http://127.0.0.1:{free_port()}/metrics", timeout=1.0)
    assert time.monotonic() - started < 2.0
