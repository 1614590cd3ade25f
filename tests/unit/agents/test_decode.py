"""Raw bytes to events or dead letters: every bad input gets a reason and keeps its payload."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from agents.decode import (
    EXTRA_FORBIDDEN,
    MAX_MESSAGE_BYTES,
    UNKNOWN_CURRENCY,
    RawRecord,
    decode,
    decode_batch,
)
from agents.metrics import UNKNOWN_FIELD_NAMES, UNKNOWN_FIELD_OTHER, Metrics
from schemas.catalog import INTERACTIONS, TRANSACTIONS
from schemas.inputs import Transaction
from schemas.money import RateTable
from schemas.outputs import DeadLetter, DeadLetterReason

NOW = datetime(2026, 3, 2, tzinfo=UTC)
GOOD = {
    "event_id": "e-1",
    "customer_id": "C1",
    "occurred_at": "2026-03-01T10:00:00+00:00",
    "account_id": "A1",
    "kind": "deposit",
    "amount": "100.00",
    "currency": "EUR",
    "channel": "branch",
}


def record(value: bytes, topic: str = TRANSACTIONS) -> RawRecord:
    return RawRecord(topic, 2, 41, b"C1", value)


def test_valid_message_decodes_to_its_topic_model() -> None:
    assert isinstance(decode(record(json.dumps(GOOD).encode()), NOW, timedelta(days=1)), Transaction)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\xff\xfe not json", DeadLetterReason.NOT_JSON),
        (b'{"event_id": "e-1", ', DeadLetterReason.NOT_JSON),
        (b"[1, 2, 3]", DeadLetterReason.NOT_OBJECT),
        (json.dumps({**GOOD, "amount": -1}).encode(), DeadLetterReason.INVALID),
        (json.dumps({**GOOD, "occurred_at": "2026-03-09T00:00:00Z"}).encode(), DeadLetterReason.FUTURE_EVENT),
        (b'{"x": "' + b"a" * MAX_MESSAGE_BYTES + b'"}', DeadLetterReason.TOO_LARGE),
    ],
)
def test_bad_messages_become_dead_letters_with_reason_and_payload(
    value: bytes, reason: DeadLetterReason
) -> None:
    result = decode(record(value), NOW, timedelta(days=1))
    assert isinstance(result, DeadLetter)
    assert result.reason is reason
    assert base64.b64decode(result.payload_base64) == value
    assert (result.source_topic, result.source_partition, result.source_offset) == (TRANSACTIONS, 2, 41)
    assert result.errors


def test_transaction_sent_to_interaction_topic_is_invalid_there() -> None:
    result = decode(record(json.dumps(GOOD).encode(), topic=INTERACTIONS), NOW, timedelta(days=1))
    assert isinstance(result, DeadLetter)
    assert "kind" in {e.loc for e in result.errors}  # a transaction kind is no interaction kind


def test_unknown_fields_are_accepted_and_counted_by_name_only() -> None:
    extra = json.dumps({**GOOD, "wallet": "D-7781", "geo": {"lat": 1.5}}).encode()
    decoded = decode_batch([record(extra), record(json.dumps(GOOD).encode())], NOW, timedelta(days=1))
    assert [type(event) for _, event in decoded.events] == [Transaction, Transaction]
    assert not decoded.dead
    assert decoded.unknown_fields == Counter({(TRANSACTIONS, "wallet"): 1, (TRANSACTIONS, "geo"): 1})
    first = decoded.events[0][1]
    assert isinstance(first, Transaction) and first.amount == Decimal("100.00")  # known fields as before


def test_a_strict_topic_dead_letters_unknown_fields_naming_them() -> None:
    extra = json.dumps({**GOOD, "wallet": "D-7781"}).encode()
    result = decode(record(extra), NOW, timedelta(days=1), strict={TRANSACTIONS})
    assert isinstance(result, DeadLetter)
    assert result.reason is DeadLetterReason.INVALID
    assert [(e.loc, e.kind) for e in result.errors] == [("wallet", EXTRA_FORBIDDEN)]
    assert "D-7781" not in result.model_dump_json(exclude={"payload_base64"})  # the name, not the value
    other = decode(record(extra, topic=TRANSACTIONS), NOW, timedelta(days=1), strict={INTERACTIONS})
    assert isinstance(other, Transaction)  # strictness is per topic


def test_an_unknown_enum_value_stays_a_dead_letter_that_says_which_field() -> None:
    result = decode(record(json.dumps({**GOOD, "kind": "crypto_swap"}).encode()), NOW, timedelta(days=1))
    assert isinstance(result, DeadLetter)
    assert result.reason is DeadLetterReason.INVALID
    [issue] = result.errors
    assert (issue.loc, issue.kind) == ("kind", "enum")
    assert "salary_credit" in issue.message  # the values it may take


def test_pipeline_counts_unknown_fields_per_topic_and_bounds_the_names() -> None:
    metrics = Metrics()
    for n in range(UNKNOWN_FIELD_NAMES + 5):
        metrics.count_unknown_field(TRANSACTIONS, f"f{n}")
    metrics.count_unknown_field(TRANSACTIONS, "f0", 2)
    metrics.count_unknown_field(INTERACTIONS, "f99")
    sample = metrics.registry.get_sample_value
    assert sample("signalbank_unknown_fields_total", {"topic": TRANSACTIONS, "field": "f0"}) == 3
    other = {"topic": TRANSACTIONS, "field": UNKNOWN_FIELD_OTHER}
    assert sample("signalbank_unknown_fields_total", other) == 5
    own_budget = {"topic": INTERACTIONS, "field": "f99"}
    assert sample("signalbank_unknown_fields_total", own_budget) == 1


RATES = RateTable("EUR", {"USD": Decimal("0.92"), "GBP": Decimal("1.17")})


def test_a_transaction_in_another_currency_comes_out_in_the_reporting_currency() -> None:
    body = {**GOOD, "currency": "USD", "amount": "100.00", "balance_after": "-2683.17"}
    event = decode(record(json.dumps(body).encode()), NOW, timedelta(days=1), rates=RATES)
    assert isinstance(event, Transaction)
    assert (event.amount, event.balance_after, event.currency) == (
        Decimal("92.00"),
        Decimal("-2468.52"),
        "EUR",
    )
    same = decode(record(json.dumps(GOOD).encode()), NOW, timedelta(days=1), rates=RATES)
    assert isinstance(same, Transaction)
    assert (same.amount, same.balance_after, same.currency) == (Decimal("100.00"), None, "EUR")


def test_a_currency_without_a_rate_is_a_dead_letter_that_names_it() -> None:
    body = json.dumps({**GOOD, "currency": "CHF"}).encode()
    decoded = decode_batch(
        [record(body), record(json.dumps(GOOD).encode())], NOW, timedelta(days=1), rates=RATES
    )
    assert [event.event_id for _, event in decoded.events] == ["e-1"]
    [(_, letter)] = decoded.dead
    assert letter.reason is DeadLetterReason.INVALID
    [issue] = letter.errors
    assert (issue.loc, issue.kind) == ("currency", UNKNOWN_CURRENCY)
    assert "CHF" in issue.message and "EUR" in issue.message
    assert base64.b64decode(letter.payload_base64) == body
    # without a configured table only the reporting currency (EUR) is known
    assert isinstance(
        decode(record(json.dumps({**GOOD, "currency": "USD"}).encode()), NOW, timedelta(days=1)), DeadLetter
    )
