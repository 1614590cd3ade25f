"""10,000 hostile messages through a real worker: each is processed or dead-lettered with a reason,
the counts add up exactly, the worker stays up and its memory stays bounded.

The messages come from Hypothesis strategies, derandomized (the same ones on every run): valid
events mixed with random bytes, truncated JSON, huge strings, deep nesting, NaN and infinities,
wrong types, absurd timestamps, unknown enum values, unknown fields and repeated event ids.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from agents.decode import RawRecord, decode, utc_now
from schemas.catalog import CUSTOMERS, DEAD_LETTERS, INPUT_TOPICS, INTERACTIONS, TRANSACTIONS
from schemas.outputs import DeadLetter
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from streams.kafka.admin import create_topics
from tests.faults.test_crash_recovery import fresh_db
from tests.support.kafka_io import collect, produce

pytestmark = pytest.mark.faults

COUNT = 10_000
MAX_RSS_GROWTH_MB = 200  # generous: a leak per message (10,000 of them, some 200 KB) shows far above

Message = tuple[str, bytes | None, bytes]

CUSTOMER_IDS = [f"H{i:04d}" for i in range(150)]
EVENT_IDS = [f"e{i:05d}" for i in range(4000)]
#: A few customers and ids that "dup" messages draw from, so they often repeat an event (duplicates).
DUP_CUSTOMERS = CUSTOMER_IDS[:5]
DUP_EVENT_IDS = [f"dup{i}" for i in range(8)]
#: Fixed times, so the same messages come out on every run and every day.
PAST = datetime(2025, 6, 1, tzinfo=UTC)
FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


_recent = st.integers(min_value=0, max_value=60 * 86_400).map(lambda s: _iso(PAST - timedelta(seconds=s)))
_customer = st.sampled_from(CUSTOMER_IDS)
_event_id = st.sampled_from(EVENT_IDS)


def _transaction(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "event_id": draw(_event_id),
        "customer_id": draw(_customer),
        "occurred_at": draw(_recent),
        "account_id": "ACC1",
        "kind": draw(st.sampled_from(["salary_credit", "card_payment", "transfer_out", "deposit", "fee"])),
        "amount": draw(st.sampled_from(["12.50", "2500.00", "99.99", "1"])),
        "currency": "EUR",
        "channel": draw(st.sampled_from(["mobile", "web", "pos", "atm", "branch"])),
    }


def _interaction(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "event_id": draw(_event_id),
        "customer_id": draw(_customer),
        "occurred_at": draw(_recent),
        "kind": draw(st.sampled_from(["login", "call", "complaint_opened", "survey_response"])),
        "channel": draw(st.sampled_from(["mobile", "web", "call_centre"])),
    }


def _customer_record(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "event_id": draw(_event_id),
        "customer_id": draw(_customer),
        "occurred_at": draw(_recent),
        "segment": draw(st.sampled_from(["retail", "sme", "private", "student"])),
        "marketing_consent": draw(st.booleans()),
    }


_BUILDERS = {TRANSACTIONS: _transaction, INTERACTIONS: _interaction, CUSTOMERS: _customer_record}


@st.composite
def valid_event(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    topic = draw(st.sampled_from(list(_BUILDERS)))
    return topic, _BUILDERS[topic](draw)


def _encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, allow_nan=True).encode()


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

#: Raw JSON text for a field: NaN and infinities as JSON decoders spell them, and absurd numbers.
_odd_numbers = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "-1e400",
        "1e-400",
        "0",
        "-0.0",
        "123456789012345678901234567890",
    ]
)
_odd_times = st.sampled_from(
    [
        "0001-01-01T00:00:00+00:00",
        "1970-01-01T00:00:00+00:00",
        "1999-12-31T23:59:59+00:00",
        "9999-12-31T23:59:59+00:00",
        "2024-13-45T25:61:61+00:00",
        "2024-06-01T12:00:00",  # no time zone
        "",
        "yesterday",
    ]
)
_far_future = st.integers(min_value=30, max_value=3000).map(lambda d: _iso(FUTURE + timedelta(days=d)))


@st.composite
def hostile_message(draw: st.DrawFn) -> Message:
    """One message, valid or broken in one of many ways."""
    topic, event = draw(valid_event())
    key: bytes | None = event["customer_id"].encode()
    kind = draw(
        st.sampled_from(
            [
                "valid",
                "valid",
                "valid",
                "valid",
                "dup",
                "bytes",
                "truncated",
                "huge",
                "nested",
                "odd_number",
                "wrong_type",
                "time",
                "future",
                "enum",
                "extra",
                "missing",
                "not_object",
            ]
        )
    )
    if kind == "valid":
        return topic, key, _encode(event)
    if kind == "dup":
        customer = draw(st.sampled_from(DUP_CUSTOMERS))
        event = {**event, "customer_id": customer, "event_id": draw(st.sampled_from(DUP_EVENT_IDS))}
        return topic, customer.encode(), _encode(event)
    if kind == "bytes":
        return topic, draw(st.none() | st.binary(max_size=16)), draw(st.binary(max_size=300))
    if kind == "truncated":
        text = _encode(event)
        return topic, key, text[: draw(st.integers(min_value=0, max_value=len(text) - 1))]
    if kind == "huge":
        size = draw(st.sampled_from([65, 501, 4_000, 60_000, 66_000, 200_000]))
        field = draw(st.sampled_from(sorted(event)))
        return topic, key, _encode({**event, field: "x" * size})
    if kind == "nested":
        depth = draw(st.sampled_from([10, 100, 255, 256, 1_000, 20_000, 40_000]))
        opener = draw(st.sampled_from(["[", '{"a":']))
        closer = "]" if opener == "[" else "}"
        field = draw(st.sampled_from(sorted(event)))
        balanced = draw(st.booleans())
        nested = opener * depth + "1" + (closer * depth if balanced else "")
        hole = _encode({**event, field: "__HOLE__"}).decode()
        return topic, key, hole.replace('"__HOLE__"', nested).encode()
    if kind == "odd_number":
        field = draw(
            st.sampled_from(["amount", "score", "occurred_at", "balance_after", "marketing_consent"])
        )
        hole = _encode({**event, field: "__HOLE__"}).decode()
        return topic, key, hole.replace('"__HOLE__"', draw(_odd_numbers)).encode()
    if kind == "wrong_type":
        field = draw(st.sampled_from(sorted(event)))
        return topic, key, _encode({**event, field: draw(_json_values)})
    if kind == "time":
        return topic, key, _encode({**event, "occurred_at": draw(_odd_times)})
    if kind == "future":
        return topic, key, _encode({**event, "occurred_at": draw(_far_future)})
    if kind == "enum":
        field = draw(st.sampled_from(["kind", "channel", "segment", "currency", "type"]))
        return topic, key, _encode({**event, field: draw(st.text(min_size=1, max_size=20))})
    if kind == "extra":
        return topic, key, _encode({**event, draw(st.text(min_size=1, max_size=12)): draw(_json_values)})
    if kind == "missing":
        field = draw(st.sampled_from(sorted(event)))
        return topic, key, _encode({k: v for k, v in event.items() if k != field})
    # not_object: a valid JSON document that is not an object
    return topic, key, json.dumps(draw(_json_values), allow_nan=True).encode()


def draw_messages(count: int) -> list[Message]:
    """``count`` hostile messages, the same ones on every run (derandomized, no example database)."""
    drawn: list[Message] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(hostile_message())
    def collect(message: Message) -> None:
        drawn.append(message)

    while len(drawn) < count:  # Hypothesis may stop a little short; top up from the same sequence
        before = len(drawn)
        collect()
        if len(drawn) == before:
            break
    return drawn[:count]


def expected_outcomes(messages: list[Message]) -> tuple[Counter[str], Counter[str]]:
    """What the worker must report: events by outcome, dead letters by reason (decoded here alike)."""
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    now = utc_now()
    for offset, (topic, key, value) in enumerate(messages):
        result = decode(RawRecord(topic, 0, offset, key, value), now, timedelta(days=1))
        if isinstance(result, DeadLetter):
            outcomes["dead_letter"] += 1
            reasons[result.reason.value] += 1
            continue
        pair = (result.customer_id, result.event_id)
        outcomes["duplicate" if pair in seen else "processed"] += 1
        seen.add(pair)
    return outcomes, reasons


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


class Worker(WorkerProcess):
    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid


def test_hostile_messages_are_each_processed_or_dead_lettered_and_counted(
    redis_server: EmbeddedRedis,
) -> None:
    messages = draw_messages(COUNT)
    assert len(messages) == COUNT
    outcomes, reasons = expected_outcomes(messages)
    assert all(outcomes[o] > 0 for o in ("processed", "duplicate", "dead_letter")), outcomes
    assert set(reasons) == {"not_json", "not_object", "invalid", "too_large", "future_event"}, reasons

    with EmbeddedKafka() as broker:
        create_topics(broker.bootstrap, partitions=4)
        worker = Worker(
            broker.url,
            fresh_db(redis_server, 7),
            partitions=4,
            rules_dir=None,
            app_id=f"hostile-{os.getpid()}",
        )
        worker.start()
        try:
            worker.wait_ready()
            rss_before = rss_mb(worker.pid)
            assert produce(broker.bootstrap, messages) == COUNT
            deadline = time.monotonic() + 240
            samples = scrape(worker.metrics_url)
            while total(samples, "signalbank_events_total") < COUNT:
                assert worker.alive(), f"worker died on hostile input:\n{worker.log_tail()}"
                assert time.monotonic() < deadline, f"not all messages counted:\n{worker.log_tail()}"
                time.sleep(0.5)
                samples = scrape(worker.metrics_url)
            time.sleep(1.0)  # anything counted twice would show now
            samples = scrape(worker.metrics_url)
            rss_after = rss_mb(worker.pid)

            counted = {o: total(samples, "signalbank_events_total", outcome=o) for o in outcomes}
            assert total(samples, "signalbank_events_total") == COUNT
            assert counted == outcomes
            for topic in INPUT_TOPICS:
                sent = sum(1 for t, _, _ in messages if t == topic)
                assert total(samples, "signalbank_events_total", topic=topic) == sent
            by_reason = {r: total(samples, "signalbank_dead_letters_total", reason=r) for r in reasons}
            assert by_reason == reasons

            letters = collect(
                broker.bootstrap, lambda seen: len(seen[DEAD_LETTERS]) >= outcomes["dead_letter"], timeout=120
            )[DEAD_LETTERS]
            assert len(letters) == outcomes["dead_letter"]
            assert Counter(letter["reason"] for letter in letters) == reasons
            places = {(d["source_topic"], d["source_partition"], d["source_offset"]) for d in letters}
            assert len(places) == len(letters), "a message dead-lettered twice"
            assert all(letter["errors"] for letter in letters), "a dead letter without its errors"

            assert worker.alive()
            health = worker.metrics_url.replace("/metrics", "/healthz")
            with urllib.request.urlopen(health, timeout=5) as response:
                assert response.status == 200
            growth = rss_after - rss_before
            assert growth < MAX_RSS_GROWTH_MB, (
                f"RSS grew {growth:.0f} MB ({rss_before:.0f} -> {rss_after:.0f})"
            )
        finally:
            worker.stop()
