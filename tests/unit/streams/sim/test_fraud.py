"""Fraud episodes: rare, overlaid on the customer's life, and exactly what the truth says."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from schemas.catalog import INPUT_MODELS
from streams.sim.fraud import ACCOUNT_TAKEOVER, CARD_FRAUD
from streams.sim.generator import generate
from streams.sim.places import HOME_COUNTRY
from streams.sim.scenario import Scenario
from streams.sim.truth import ground_truth
from tests.unit.streams.cli.run import signalbank
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


def test_simulate_writes_the_episodes_in_its_truth_file_and_can_leave_origins_out(tmp_path: Path) -> None:
    args = ("simulate", "--customers", "40", "--days", "40", "--start", "2025-03-01", "--invalid-ratio", "0")
    result = signalbank(*args, "--fraud-share", "0.5", "--out", str(tmp_path / "on"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "on" / "truth.json").read_text()
    scenario = Scenario(
        customers=40, days=40, seed=7, start=datetime(2025, 3, 1, tzinfo=UTC), fraud_share=0.5
    )
    expected = ground_truth(scenario)
    written = json.loads(text)
    episodes = [(c, f["fraud"]) for c, f in written.items() if "fraud" in f]
    assert episodes and episodes == [
        (c, [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in e.items()} for e in f["fraud"]])
        for c, f in expected.items()
        if "fraud" in f
    ]
    assert "T" in episodes[0][1][0]["start"]  # ISO 8601 instants
    result = signalbank(*args, "--no-origins", "--out", str(tmp_path / "off"))
    assert result.returncode == 0, result.stderr
    assert not any("fraud" in f for f in json.loads((tmp_path / "off" / "truth.json").read_text()).values())
    lines = (tmp_path / "off" / "transactions.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line)["device_id"] is None for line in lines)
