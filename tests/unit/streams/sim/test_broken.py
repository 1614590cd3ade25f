"""Broken messages: exactly the flagged ones, of every flavour, beside unchanged valid traffic."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from pydantic import ValidationError

from schemas.catalog import INPUT_MODELS, TRANSACTIONS
from schemas.inputs import Transaction
from streams.sim.event import SimEvent
from streams.sim.generator import generate
from tests.unit.streams.sim.traffic import (
    SCENARIO,
)


def test_invalid_messages_are_exactly_the_flagged_ones(events: list[SimEvent]) -> None:
    noisy = list(generate(replace(SCENARIO, customers=80, invalid_ratio=0.05)))
    broken = [e for e in noisy if not e.valid]
    assert 0.03 < len(broken) / len(noisy) < 0.07
    for event in noisy:
        if event.valid:
            INPUT_MODELS[event.topic].model_validate_json(event.value)
        else:
            assert event.topic == TRANSACTIONS
            assert event.key == event.customer_id.encode()
            with pytest.raises(ValidationError):
                Transaction.model_validate_json(event.value)
    flavours = set()
    for event in broken:
        try:
            body = json.loads(event.value)
        except ValueError:
            flavours.add("not json")
            continue
        if not {"amount", "account_id", "currency", "kind", "occurred_at"} <= set(body):
            flavours.add("missing field")
        elif body["amount"].startswith("-"):
            flavours.add("negative amount")
        else:
            flavours.add("unknown kind")
    assert flavours == {"not json", "missing field", "negative amount", "unknown kind"}
    # broken messages are added on the side: the valid traffic is unchanged
    assert [e for e in noisy if e.valid] == [e for e in events if e.customer_id <= "C000080"]
    times = [e.occurred_at for e in noisy]
    assert times == sorted(times)
