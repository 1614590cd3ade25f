"""Fraud episodes: rare, overlaid on the customer's life, and exactly what the truth says."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from schemas.catalog import INPUT_MODELS
from streams.sim.fraud import ACCOUNT_TAKEOVER, CARD_FRAUD
from streams.sim.generator import generate
from streams.sim.places import HOME_COUNTRY
from streams.sim.scenario import Scenario
from streams.sim.truth import ground_truth
from tests.unit.streams.sim.traffic import WIDE

FRAUDY = Scenario(customers=80, days=60, seed=3, start=datetime(2025, 3, 1, tzinfo=UTC), fraud_share=0.4)
"""Many episodes in a small population, to see every kind of them."""


def test_a_small_share_of_customers_meets_a_fraudster() -> None:
    truth = ground_truth(WIDE)
    episodes = [e for facts in truth.values() for e in facts.get("fraud", [])]
    expected = WIDE.fraud_share * WIDE.days / 60 * WIDE.customers
    assert 0.5 * expected < len(episodes) < 1.5 * expected
    assert {e["kind"] for e in episodes} == {ACCOUNT_TAKEOVER, CARD_FRAUD}
    start = WIDE.resolved_start()
    assert all(e["start"] >= start + timedelta(days=WIDE.days // 4) for e in episodes)
    none = ground_truth(replace(WIDE, customers=400, fraud_share=0.0))
    assert not any("fraud" in facts for facts in none.values())
    plain = ground_truth(replace(WIDE, customers=400, origins=False))
    assert not any("fraud" in facts or "lookalikes" in facts for facts in plain.values())


def test_the_stream_holds_each_episode_as_the_truth_tells_it() -> None:
    truth = ground_truth(FRAUDY)
    events = list(generate(FRAUDY))
    bodies: dict[str, dict[str, Any]] = {}
    own: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        model = INPUT_MODELS[event.topic].model_validate_json(event.value)
        assert model.model_dump_json().encode() == event.value
        body = json.loads(event.value)
        bodies[body["event_id"]] = body
        if "-F" not in body["event_id"]:
            own[event.customer_id].append(body)
    fraudulent = {i for i, b in bodies.items() if "-F" in i}
    listed = {i for facts in truth.values() for e in facts.get("fraud", []) for i in e["event_ids"]}
    assert listed and fraudulent == listed
    kinds = set()
    for cid, facts in truth.items():
        for episode in facts.get("fraud", []):
            kinds.add(episode["kind"])
            steps = [bodies[i] for i in episode["event_ids"]]
            assert all(b["customer_id"] == cid for b in steps)
            times = [datetime.fromisoformat(b["occurred_at"]) for b in steps]
            assert times == sorted(times) and times[0] == episode["start"] and times[-1] == episode["end"]
            high = bodies[episode["first_high_value"]]
            assert datetime.fromisoformat(high["occurred_at"]) == episode["first_high_value_at"]
            devices = {b.get("device_id") for b in own[cid]}
            if episode["kind"] == ACCOUNT_TAKEOVER:
                assert steps[0]["kind"] == "login" and high["kind"] == "transfer_out"
                assert high is next(b for b in steps if b["kind"] == "transfer_out")
                assert steps[0]["device_id"] not in devices
                assert steps[0]["ip_country"] != HOME_COUNTRY
                assert Decimal(high["amount"]) >= 100
            else:
                assert high["kind"] == "card_payment" and Decimal(high["amount"]) >= 100
                assert all(b["kind"] == "card_payment" for b in steps)
                assert all(b["merchant_country"] != HOME_COUNTRY for b in steps)
            assert all(b.get("balance_after") is None for b in steps if b["type"] == "transaction")
    assert kinds == {ACCOUNT_TAKEOVER, CARD_FRAUD}
