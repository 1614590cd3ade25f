"""Raw bytes to events or dead letters: every bad input gets a reason and keeps its payload."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from agents.decode import MAX_MESSAGE_BYTES, RawRecord, decode
from schemas.catalog import INTERACTIONS, TRANSACTIONS
from schemas.inputs import Transaction
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
    assert {e.loc for e in result.errors} >= {"kind", "account_id"}  # wrong kind, unknown field
