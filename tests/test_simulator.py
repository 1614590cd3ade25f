"""The traffic simulator: deterministic, contract-conformant and telling the personas' stories."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.catalog import CUSTOMERS, INPUT_MODELS, INPUT_TOPICS, INTERACTIONS, TRANSACTIONS
from schemas.inputs import INFLOW_KINDS, Customer, Interaction, Transaction
from streams import simulator
from streams.simulator import (
    COMPLAINER,
    DRIFTING,
    HOME_BANK,
    LOYAL,
    PERSONAS,
    ProduceError,
    Scenario,
    SimEvent,
    generate,
    ground_truth,
    produce,
    write_jsonl,
)

START = datetime(2025, 1, 1, tzinfo=UTC)
SCENARIO = Scenario(customers=200, days=120, seed=7, start=START)
END = START + timedelta(days=SCENARIO.days)


@pytest.fixture(scope="module")
def events() -> list[SimEvent]:
    return list(generate(SCENARIO))


@pytest.fixture(scope="module")
def truth() -> dict[str, simulator.GroundTruth]:
    return ground_truth(SCENARIO)


@pytest.fixture(scope="module")
def parsed(events: list[SimEvent]) -> dict[str, list[Transaction | Interaction | Customer]]:
    """Valid events validated against their topic's model, per customer, in stream order."""
    by_customer: dict[str, list[Transaction | Interaction | Customer]] = defaultdict(list)
    for event in events:
        model = INPUT_MODELS[event.topic].model_validate_json(event.value)
        assert isinstance(model, Transaction | Interaction | Customer)
        by_customer[event.customer_id].append(model)
    return by_customer


def _transactions(models: list[Transaction | Interaction | Customer]) -> list[Transaction]:
    return [m for m in models if isinstance(m, Transaction)]


def _interactions(models: list[Transaction | Interaction | Customer]) -> list[Interaction]:
    return [m for m in models if isinstance(m, Interaction)]


def _of(truth: dict[str, simulator.GroundTruth], persona: str) -> list[str]:
    return [cid for cid, facts in truth.items() if facts["persona"] == persona]


# --------------------------------------------------------------------------- determinism


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


# --------------------------------------------------------------------------- contract


def test_every_valid_event_validates_against_its_topic(events: list[SimEvent]) -> None:
    ids: set[str] = set()
    for event in events:
        assert event.valid
        assert event.topic in INPUT_TOPICS
        model = INPUT_MODELS[event.topic].model_validate_json(event.value)
        assert isinstance(model, Transaction | Interaction | Customer)
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


def test_ids_and_amounts_look_like_a_bank(parsed: dict[str, list[Any]]) -> None:
    for cid, models in parsed.items():
        assert cid.startswith("C") and len(cid) == 7 and cid[1:].isdigit()
        for tx in _transactions(models):
            assert tx.account_id in {f"A{cid[1:]}-1", f"A{cid[1:]}-2"}
            assert tx.currency == "EUR"
            assert tx.amount > 0
            assert tx.amount == tx.amount.quantize(Decimal("0.01"))
            assert tx.balance_after is not None


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


def test_each_customer_starts_with_master_data(parsed: dict[str, list[Any]]) -> None:
    assert len(parsed) == SCENARIO.customers
    consent = 0
    for models in parsed.values():
        first = models[0]
        assert isinstance(first, Customer)
        assert first.occurred_at == START
        assert first.opened_at is not None and first.opened_at < START
        assert first.birth_date is not None and first.birth_date < date(2007, 1, 1)
        assert not any(isinstance(m, Customer) for m in models[1:])
        consent += first.marketing_consent
    assert 0.55 < consent / len(parsed) < 0.85
    households = [m[0].household_id for m in parsed.values() if m[0].household_id]
    assert 0 < len(set(households)) < len(households)  # some households have several members


def test_balance_after_is_a_running_balance(parsed: dict[str, list[Any]]) -> None:
    for models in parsed.values():
        last: dict[str, Decimal] = {}
        for tx in _transactions(models):
            assert tx.balance_after is not None
            if tx.account_id in last:
                sign = 1 if tx.kind in INFLOW_KINDS else -1
                assert tx.balance_after == last[tx.account_id] + sign * tx.amount, tx
            last[tx.account_id] = tx.balance_after


# --------------------------------------------------------------------------- personas


def test_ground_truth_covers_every_customer(
    truth: dict[str, simulator.GroundTruth], events: list[SimEvent]
) -> None:
    assert set(truth) == {e.customer_id for e in events}
    assert len(truth) == SCENARIO.customers
    assert {facts["persona"] for facts in truth.values()} == set(PERSONAS)
    for facts in truth.values():
        if facts["persona"] in (DRIFTING, COMPLAINER):
            assert facts["signal_on"] is not None and facts["lost_on"] is not None
            assert START.date() <= facts["signal_on"] < facts["lost_on"] < END.date()
        else:
            assert facts["signal_on"] is None and facts["lost_on"] is None


def test_loyal_customers_get_a_salary_in_every_month(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    full_months = {(2025, 1), (2025, 2), (2025, 3), (2025, 4)}  # 2025-01-01 + 120 days = 2025-05-01
    loyal = _of(truth, LOYAL)
    assert len(loyal) > 60
    for cid in loyal:
        salaries = [t for t in _transactions(parsed[cid]) if t.kind == "salary_credit"]
        months = {(t.occurred_at.year, t.occurred_at.month) for t in salaries}
        assert months == full_months, cid
        assert len(salaries) == len(full_months)
        assert all(t.occurred_at.day >= 20 for t in salaries)
        assert all(Decimal(500) < t.amount < Decimal(20_000) for t in salaries)
        logins = [i for i in _interactions(parsed[cid]) if i.kind == "login"]
        assert len(logins) >= 10  # several a week for most; never near zero
    amounts = sorted(
        t.amount for cid in loyal for t in _transactions(parsed[cid]) if t.kind == "salary_credit"
    )
    assert Decimal(2000) < amounts[len(amounts) // 2] < Decimal(4000)
    assert len(set(amounts)) > len(amounts) * 0.9  # drawn, not constant


def _signal(truth: dict[str, simulator.GroundTruth], cid: str) -> datetime:
    signal_on = truth[cid]["signal_on"]
    assert signal_on is not None
    return datetime.combine(signal_on, datetime.min.time(), UTC)


def test_drifting_customers_stop_salary_drain_to_other_banks_and_fade(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    drifting = _of(truth, DRIFTING)
    assert len(drifting) >= 10
    last_36 = END - timedelta(days=36)
    rates: dict[str, list[float]] = defaultdict(list)
    for cid in drifting:
        signal = _signal(truth, cid)
        txs = _transactions(parsed[cid])
        salaries = [t.occurred_at for t in txs if t.kind == "salary_credit"]
        assert salaries, cid
        assert max(salaries) < last_36
        assert [m for m in parsed[cid] if m.occurred_at > max(salaries) + timedelta(days=36)], cid
        exits = [
            t
            for t in txs
            if t.kind == "transfer_out"
            and t.counterparty_bank not in (None, HOME_BANK)
            and t.occurred_at >= signal
        ]
        assert exits, cid
        current = [
            t.balance_after for t in txs if t.account_id.endswith("-1") and t.balance_after is not None
        ]
        assert current[-1] < max(current) * Decimal("0.2")
        for kind in ("login", "card_payment"):
            times = [m.occurred_at for m in parsed[cid] if getattr(m, "kind", None) == kind]
            rates[f"{kind} before"].append(sum(signal - timedelta(days=30) <= t < signal for t in times) / 30)
            late = signal + timedelta(days=14)
            rates[f"{kind} after"].append(sum(t >= late for t in times) / (END - late).days)
    for kind in ("login", "card_payment"):
        assert sum(rates[f"{kind} after"]) < 0.2 * sum(rates[f"{kind} before"]), kind


def test_complainers_never_get_their_complaint_resolved(
    truth: dict[str, simulator.GroundTruth], parsed: dict[str, list[Any]]
) -> None:
    complainers = _of(truth, COMPLAINER)
    assert complainers
    unhappy = 0
    for cid in complainers:
        interactions = _interactions(parsed[cid])
        opened = [i for i in interactions if i.kind == "complaint_opened"]
        assert opened and opened[0].occurred_at.date() == truth[cid]["signal_on"]
        assert all(i.reference is not None and i.reference.startswith("CMP-") for i in opened)
        assert not [i for i in interactions if i.kind == "complaint_resolved"]
        complaint_day = opened[0].occurred_at.date()
        after = [
            i for i in interactions if i.kind == "survey_response" and i.occurred_at.date() >= complaint_day
        ]
        assert all(i.score is not None and 0 <= i.score <= 4 for i in after)
        unhappy += bool(after)
    assert unhappy >= len(complainers) // 2
    references = [
        i.reference
        for models in parsed.values()
        for i in _interactions(models)
        if i.kind == "complaint_opened"
    ]
    assert len(references) == len(set(references))


# --------------------------------------------------------------------------- broken messages


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


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": 0},
        {"customers": -1},
        {"invalid_ratio": 1.0},
        {"invalid_ratio": -0.1},
        {"start": datetime(2025, 1, 1)},
        {"start": datetime(1999, 1, 1, tzinfo=UTC)},
    ],
)
def test_nonsense_scenarios_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Scenario(**kwargs)


# --------------------------------------------------------------------------- sinks


def test_write_jsonl_writes_one_file_per_topic(tmp_path: Path) -> None:
    scenario = replace(SCENARIO, customers=10, days=20, invalid_ratio=0.1)
    stream = list(generate(scenario))
    counts = write_jsonl(stream, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["customers.jsonl", "interactions.jsonl", "transactions.jsonl"]
    assert counts == {t: sum(e.topic == t and e.valid for e in stream) for t in INPUT_TOPICS}
    for topic, name in simulator.JSONL_FILES.items():
        lines = (tmp_path / name).read_bytes().splitlines()
        assert len(lines) == counts[topic]
        for line in lines:
            assert isinstance(json.loads(line), dict)
            INPUT_MODELS[topic].model_validate_json(line)
    with_broken = write_jsonl(stream, tmp_path / "all", include_invalid=True)
    assert with_broken[TRANSACTIONS] == sum(e.topic == TRANSACTIONS for e in stream) > counts[TRANSACTIONS]


class FakeFuture:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def add_errback(self, callback: Any) -> FakeFuture:
        if self.error is not None:
            callback(self.error)
        return self


class FakeProducer:
    instances: list[FakeProducer] = []
    fail_every: int = 0

    def __init__(self, **configs: Any) -> None:
        self.configs = configs
        self.sent: list[tuple[str, bytes, bytes, float]] = []
        self.flushed = self.closed = False
        FakeProducer.instances.append(self)

    def send(self, topic: str, value: bytes, key: bytes) -> FakeFuture:
        self.sent.append((topic, key, value, time.monotonic()))
        failed = self.fail_every and len(self.sent) % self.fail_every == 0
        return FakeFuture(RuntimeError("broker said no") if failed else None)

    def flush(self) -> None:
        self.flushed = True

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeProducer]]:
    FakeProducer.instances = []
    FakeProducer.fail_every = 0
    monkeypatch.setattr(simulator, "KafkaProducer", FakeProducer)
    yield FakeProducer


def test_produce_sends_everything_and_counts_per_topic(
    fake_kafka: type[FakeProducer], events: list[SimEvent]
) -> None:
    stream = list(generate(replace(SCENARIO, customers=10, invalid_ratio=0.05)))
    seen: list[SimEvent] = []
    counts = produce(stream, "broker:9092", rate=None, on_sent=seen.append)
    (producer,) = fake_kafka.instances
    assert producer.configs == {"bootstrap_servers": "broker:9092", "linger_ms": 5, "acks": 1}
    assert producer.flushed and producer.closed
    assert [(t, k, v) for t, k, v, _ in producer.sent] == [(e.topic, e.key, e.value) for e in stream]
    assert seen == stream
    assert counts == {t: sum(e.topic == t for e in stream) for t in INPUT_TOPICS}


def test_produce_paces_to_the_rate(fake_kafka: type[FakeProducer], events: list[SimEvent]) -> None:
    started = time.monotonic()
    produce(events[:300], "broker:9092", rate=1000.0)
    elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 3.0
    stamps = [s for *_, s in fake_kafka.instances[0].sent]
    assert stamps[150] - stamps[0] > 0.12  # paced throughout, not one burst at the end


def test_produce_stops_when_asked(fake_kafka: type[FakeProducer], events: list[SimEvent]) -> None:
    stop = threading.Event()
    sent: list[SimEvent] = []

    def on_sent(event: SimEvent) -> None:
        sent.append(event)
        if len(sent) == 25:
            stop.set()

    counts = produce(events, "broker:9092", rate=None, stop=stop, on_sent=on_sent)
    assert sum(counts.values()) == 25 == len(fake_kafka.instances[0].sent)
    assert fake_kafka.instances[0].closed


def test_produce_stops_while_waiting_for_the_rate(
    fake_kafka: type[FakeProducer], events: list[SimEvent]
) -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    counts = produce(events, "broker:9092", rate=50.0, stop=stop)
    assert time.monotonic() - started < 1.5
    assert 0 < sum(counts.values()) < 40


def test_produce_reports_refused_messages(fake_kafka: type[FakeProducer], events: list[SimEvent]) -> None:
    fake_kafka.fail_every = 10
    with pytest.raises(ProduceError) as caught:
        produce(events[:100], "broker:9092", rate=None)
    assert caught.value.failed == 10
    assert sum(caught.value.counts.values()) == 100
    assert fake_kafka.instances[0].closed


def test_produce_rejects_a_useless_rate(fake_kafka: type[FakeProducer]) -> None:
    with pytest.raises(ValueError):
        produce([], "broker:9092", rate=0)
