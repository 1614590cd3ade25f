"""dev's simulated customers answer offers with valid interactions, the same way every time."""

from __future__ import annotations

import json

from kafka import KafkaConsumer, TopicPartition

from schemas.catalog import INTERACTIONS, OFFERS
from schemas.inputs import Interaction
from streams.dev.embedded import EmbeddedKafka
from streams.dev.responder import OfferResponder
from streams.kafka.admin import create_topics


def offer(n: int) -> dict[str, str]:
    return {
        "offer_event_id": f"{n:032x}",
        "customer_id": f"R{n}",
        "occurred_at": "2026-03-01T10:00:00+00:00",
        "channel": "email",
        "product": "CREDIT_CARD_GOLD",
    }


def test_answers_are_valid_interactions_decided_by_the_offer_id(kafka_server: EmbeddedKafka) -> None:
    create_topics(kafka_server.bootstrap, partitions=4)
    runs = []
    for _ in range(2):  # a rerun answers the same offers the same way
        responder = OfferResponder(kafka_server.bootstrap, accept=0.3, decline=0.3)
        for n in range(200):
            responder(OFFERS, offer(n))
        responder("signalbank.churn-alerts.v1", offer(999))  # only offers are answered
        responder.close()
        responder(OFFERS, offer(1000))  # closed: answers nothing more
        runs.append(responder.counts)
    assert runs[0] == runs[1]
    answered = sum(runs[0].values())
    assert 80 < answered < 160 and set(runs[0]) == {"offer_accepted", "offer_declined"}

    consumer = KafkaConsumer(bootstrap_servers=kafka_server.bootstrap, auto_offset_reset="earliest")
    partitions = [TopicPartition(INTERACTIONS, p) for p in consumer.partitions_for_topic(INTERACTIONS) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    found: list[dict[str, object]] = []
    for records in consumer.poll(timeout_ms=5000, max_records=10_000).values():
        found.extend(json.loads(r.value) for r in records if r.value.startswith(b'{"event_id": "answer-'))
    consumer.close()
    answers = [Interaction.model_validate(body) for body in found]
    assert len(answers) == 2 * answered and len({a.event_id for a in answers}) == answered
    assert all(a.reference and a.channel.value == "web" and a.occurred_at.hour == 13 for a in answers)
