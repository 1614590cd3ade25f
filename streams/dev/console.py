"""Print output topics as one readable line per alert, offer or signal, as they are emitted."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from schemas.catalog import (
    CHURN_ALERTS,
    DEAD_LETTERS,
    OFFERS,
    OUTPUT_TOPICS,
    RISK_SIGNALS,
    SERVICE_ALERTS,
    SIGNALS,
    TIER_CHANGES,
)


def describe(topic: str, value: dict[str, Any]) -> str:
    """One line for a human: who, what, why."""
    if topic == CHURN_ALERTS:
        reasons = "; ".join(r["message"] for r in value["reasons"])
        return (
            f"ALERT  {value['customer_id']:<10} {value['level'].upper():<8} score={value['score']:.2f}  "
            f"{reasons}  -> {value['suggested_action']}"
        )
    if topic == OFFERS:
        return (
            f"OFFER  {value['customer_id']:<10} {value['product']:<18} via {value['channel']:<11} "
            f"score={value['score']:.0f}  {value['reasons'][0]}"
        )
    if topic in (SIGNALS, SERVICE_ALERTS):
        label = value["tag"] if value["kind"] == "tag" else value["rule_id"]
        action = f"  -> {value['action']}" if value["action"] else ""
        return f"{value['kind'].upper():<6} {value['customer_id']:<10} {label:<24} {value['message']}{action}"
    if topic == RISK_SIGNALS:
        rules = ",".join(r["rule_id"] for r in value["reasons"])
        return (
            f"RISK   {value['customer_id']:<10} {value['level'].upper():<6} score={value['score']:<3} "
            f"{rules}  {value['reasons'][0]['message']}  -> {value['recommended_action']}"
        )
    if topic == TIER_CHANGES:
        old = value["old_tier"] or "-"
        return f"TIER   {value['customer_id']:<10} {old} -> {value['new_tier']:<10} {value['message']}"
    if topic == DEAD_LETTERS:
        errors = "; ".join(f"{e['loc']}: {e['message']}" for e in value["errors"][:2])
        return f"DEAD   {value['source_topic']}@{value['source_offset']} {value['reason']}: {errors}"
    return f"{topic}: {value}"


class OutputPrinter(threading.Thread):
    """Reads every output partition from the beginning, without a consumer group."""

    def __init__(
        self,
        bootstrap: str,
        emit: Callable[[str], None] = print,
        on_output: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        super().__init__(name="output-printer", daemon=True)
        self._brokers = bootstrap
        self._emit = emit
        self._on_output = on_output
        self._stop_event = threading.Event()
        self.counts: Counter[str] = Counter()

    def run(self) -> None:
        consumer = KafkaConsumer(
            bootstrap_servers=self._brokers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            consumer_timeout_ms=200,
        )
        partitions = [
            TopicPartition(topic, p)
            for topic in OUTPUT_TOPICS
            for p in (consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        try:
            while not self._stop_event.is_set():
                for records in consumer.poll(timeout_ms=200).values():
                    for record in records:
                        self.counts[record.topic] += 1
                        value = json.loads(record.value)
                        self._emit(describe(record.topic, value))
                        if self._on_output is not None:
                            self._on_output(record.topic, value)
        finally:
            consumer.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
