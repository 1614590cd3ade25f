"""The event stream: deterministic, contract-conformant, in event-time order, never in the future."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from schemas.catalog import CUSTOMERS, INPUT_MODELS, INPUT_TOPICS, INTERACTIONS, TRANSACTIONS
from schemas.inputs import Customer, Interaction, Transaction
from streams.sim.event import SimEvent
from streams.sim.generator import generate
from streams.sim.scenario import Scenario
from streams.sim.truth import ground_truth
from tests.unit.streams.sim.traffic import (
    END,
    SCENARIO,
    START,
)


def test_same_seed_gives_the_same_bytes(events: list[SimEvent]) -> None:
    again = list(generate(SCENARIO))
    assert again == events
    assert [e.value for e in again] == [e.value for e in events]


def test_other_seed_gives_other_traffic(events: list[SimEvent]) -> None:
    other = list(generate(replace(SCENARIO, seed=8, customers=50)))
    mine = [e.value for e in events if e.customer_id <= "C000050"]
    assert [e.value for e in other] != mine
    assert ground_truth(replace(SCENARIO, seed=8)) != ground_truth(SCENARIO)


def test_a_customer_does_not_depend_on_the_population_size(events: list[SimEvent]) -> None:
    small = [e for e in generate(replace(SCENARIO, customers=20))]
    assert small == [e for e in events if e.customer_id <= "C000020"]


def test_every_valid_event_validates_against_its_topic(
    events: list[SimEvent], models: list[Transaction | Interaction | Customer]
) -> None:
    ids: set[str] = set()
    assert len(models) == len(events)
    for event, model in zip(events, models, strict=True):
        assert event.valid
        assert event.topic in INPUT_TOPICS
        assert event.key == event.customer_id.encode() == model.customer_id.encode()
        assert event.occurred_at == model.occurred_at
        # byte-identical to what model_dump_json of the validated model gives
        assert model.model_dump_json().encode() == event.value
        assert model.event_id not in ids
        ids.add(model.event_id)
    assert {e.topic for e in events} == set(INPUT_TOPICS)


def test_topics_carry_their_own_type(events: list[SimEvent]) -> None:
    expected = {TRANSACTIONS: "transaction", INTERACTIONS: "interaction", CUSTOMERS: "customer"}
    for event in events[:5000]:
        assert json.loads(event.value)["type"] == expected[event.topic]


def test_events_are_in_event_time_order_and_never_in_the_future() -> None:
    before = datetime.now(UTC)
    stream = list(generate(Scenario(customers=30, days=40)))  # default start: ends about now
    after = datetime.now(UTC)
    times = [e.occurred_at for e in stream]
    assert times == sorted(times)
    assert times and max(times) <= after
    assert min(times) == before.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=40)


def test_a_scenario_reaching_into_the_future_is_cut_at_now() -> None:
    now = datetime.now(UTC)
    stream = list(generate(Scenario(customers=20, days=30, start=now - timedelta(days=10))))
    assert stream
    assert max(e.occurred_at for e in stream) <= datetime.now(UTC)
    assert max(e.occurred_at for e in stream) > now - timedelta(days=3)


def test_stream_order_is_non_decreasing(events: list[SimEvent]) -> None:
    times = [e.occurred_at for e in events]
    assert all(a <= b for a, b in itertools.pairwise(times))
    assert times[0] >= START and times[-1] < END


def test_the_card_only_mix_is_deterministic_and_card_payments_only() -> None:
    scenario = replace(SCENARIO, customers=60, days=200, personas="card_only")
    stream = list(generate(scenario))
    assert [e.value for e in generate(scenario)] == [e.value for e in stream]
    kinds = {json.loads(e.value).get("kind") for e in stream if e.topic == TRANSACTIONS}
    assert kinds == {"card_payment"}
    assert {e.topic for e in stream} == {CUSTOMERS, TRANSACTIONS}
    for event in stream:
        model = INPUT_MODELS[event.topic].model_validate_json(event.value)
        assert model.model_dump_json().encode() == event.value
    assert list(generate(replace(scenario, seed=8))) != stream
