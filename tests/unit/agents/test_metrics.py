"""The pipeline's metrics live on their own registry: workers, tests and replays never collide."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from agents.metrics import Metrics


def test_two_instances_have_their_own_registries_and_counts() -> None:
    one, two = Metrics(), Metrics()  # a second set of the same names: no "Duplicated timeseries"
    assert one.registry is not two.registry
    one.events.labels("bank.transactions.v1", "ok").inc(3)
    one.redis_up.set(1)
    labels = {"topic": "bank.transactions.v1", "outcome": "ok"}
    assert one.registry.get_sample_value("signalbank_events_total", labels) == 3.0
    assert two.registry.get_sample_value("signalbank_events_total", labels) is None
    assert two.registry.get_sample_value("signalbank_redis_up") == 0.0


def test_nothing_lands_on_the_global_registry() -> None:
    Metrics().alerts.labels("high").inc()
    names = {metric.name for metric in REGISTRY.collect()}
    assert not any(name.startswith("signalbank") for name in names)


def test_a_given_registry_is_used_and_exposes_every_metric() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.offers.labels("offer.keep", "champion").inc()
    metrics.processing.observe(0.003)
    text = generate_latest(registry).decode()
    assert 'signalbank_offers_total{offer_id="offer.keep",strategy="champion"} 1.0' in text
    assert 'signalbank_event_processing_seconds_bucket{le="0.005"} 1.0' in text
    for name in ("signalbank_dead_letters", "signalbank_rule_fired", "signalbank_ruleset_info"):
        assert f"# TYPE {name}" in text
