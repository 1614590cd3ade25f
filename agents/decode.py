"""Turn raw Kafka bytes into validated events, or into a dead letter that says why, routed to its topic.

Input readers are tolerant: a field the model does not know is accepted and ignored, and only its
name is reported (``Decoded.unknown_fields``, counted per topic and name by the pipeline), since
Kafka contracts evolve by adding fields. A topic named in ``strict`` dead-letters such events
instead. Known fields are validated as before: an unknown enum value is a dead letter.

Transactions come out in the reporting currency (schemas/money.py): amount and balance converted by
the configured rate table, ``currency`` set to the reporting one, so everything after this step
(profiles, rules, offers) adds up figures of one unit. A currency with no rate is a dead letter
(reason ``invalid``, issue kind ``unknown_currency`` on ``currency``): a guess would put a wrong
figure into the customer's balances, and the dead letter keeps the event for a replay once the rate
is configured.
"""

from __future__ import annotations

import base64
import logging
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ValidationError

from agents.outputs import OutputRecord
from schemas.catalog import DEAD_LETTERS, INPUT_MODELS
from schemas.inputs import InputEvent, Transaction
from schemas.money import RateTable
from schemas.outputs import DeadLetter, DeadLetterReason, ValidationIssue

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
#: Kind of the issue an unknown field gets on a strict topic (pydantic's own name for it).
EXTRA_FORBIDDEN = "extra_forbidden"
#: Kind of the issue of a transaction whose currency the rate table does not know.
UNKNOWN_CURRENCY = "unknown_currency"
#: Only the default reporting currency known: what decoding uses when given no table.
DEFAULT_RATES = RateTable()


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One consumed message, with its coordinates for dead-lettering."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


def _issues(error: ValidationError) -> list[ValidationIssue]:
    return [
        ValidationIssue(
            loc=".".join(str(p) for p in e["loc"])[:200] or "$",
            message=str(e["msg"])[:500],
            kind=str(e["type"])[:100],
        )
        for e in error.errors(include_url=False, include_input=False)[:20]
    ]


def dead_letter(
    record: RawRecord, reason: DeadLetterReason, issues: list[ValidationIssue], now: datetime
) -> DeadLetter:
    return DeadLetter(
        source_topic=record.topic,
        source_partition=record.partition,
        source_offset=record.offset,
        reason=reason,
        errors=issues,
        payload_base64=base64.b64encode(record.value).decode("ascii"),
        key_base64=base64.b64encode(record.key).decode("ascii") if record.key is not None else None,
        received_at=now,
    )


def decode(
    record: RawRecord,
    now: datetime,
    max_future: timedelta,
    strict: Collection[str] = (),
    rates: RateTable = DEFAULT_RATES,
) -> InputEvent | DeadLetter:
    """Validate ``record`` against its topic's model; anything wrong becomes a DeadLetter.

    Unknown fields are kept aside on the event (``model_extra``; ``decode_batch`` counts them), except on
    the topics in ``strict``, where they make the event a dead letter naming each field. A
    transaction is returned in the reporting currency of ``rates``, or dead-lettered when its
    currency has no rate there.
    """
    model: type[BaseModel] | None = INPUT_MODELS.get(record.topic)
    if model is None:
        issue = ValidationIssue(loc="$", message=f"no schema for topic {record.topic}", kind="unknown_topic")
        return dead_letter(record, DeadLetterReason.INVALID, [issue], now)
    if len(record.value) > MAX_MESSAGE_BYTES:
        issue = ValidationIssue(loc="$", message=f"message is {len(record.value)} bytes", kind="too_large")
        return dead_letter(record, DeadLetterReason.TOO_LARGE, [issue], now)
    try:
        event = model.model_validate_json(record.value)
    except ValidationError as error:
        issues = _issues(error)
        kinds = {issue.kind for issue in issues}
        if kinds & {"json_invalid", "json_type"}:
            reason = DeadLetterReason.NOT_JSON
        elif "model_type" in kinds and any(i.loc == "$" for i in issues):
            reason = DeadLetterReason.NOT_OBJECT
        else:
            reason = DeadLetterReason.INVALID
        return dead_letter(record, reason, issues, now)
    if record.topic in strict and event.model_extra:
        issues = [
            ValidationIssue(
                loc=name[:200], message=f"unknown field ({record.topic} is strict)", kind=EXTRA_FORBIDDEN
            )
            for name in list(event.model_extra)[:20]
        ]
        return dead_letter(record, DeadLetterReason.INVALID, issues, now)
    occurred = event.occurred_at  # type: ignore[attr-defined]
    if occurred > now + max_future:
        issue = ValidationIssue(
            loc="occurred_at", message=f"{occurred.isoformat()} is in the future", kind="future"
        )
        return dead_letter(record, DeadLetterReason.FUTURE_EVENT, [issue], now)
    if isinstance(event, Transaction):
        return in_reporting_currency(record, event, rates, now)
    return event  # type: ignore[return-value]


def in_reporting_currency(
    record: RawRecord, event: Transaction, rates: RateTable, now: datetime
) -> Transaction | DeadLetter:
    """``event`` with its amount and balance in the reporting currency, or a dead letter naming the
    currency that has no rate."""
    currency = event.currency
    if currency == rates.reporting:
        return event
    if not rates.knows(currency):
        issue = ValidationIssue(
            loc="currency",
            message=f"no exchange rate from {currency} to {rates.reporting} (SIGNALBANK_FX_RATES_FILE)",
            kind=UNKNOWN_CURRENCY,
        )
        return dead_letter(record, DeadLetterReason.INVALID, [issue], now)
    balance = event.balance_after
    return event.model_copy(
        update={
            "amount": rates.convert(event.amount, currency),
            "balance_after": None if balance is None else rates.convert(balance, currency),
            "currency": rates.reporting,
        }
    )


@dataclass(frozen=True, slots=True)
class Decoded:
    """A batch split into valid events and dead letters, each with the record it came from."""

    events: list[tuple[RawRecord, InputEvent]]
    dead: list[tuple[RawRecord, DeadLetter]]
    unknown_fields: Counter[tuple[str, str]] = field(default_factory=Counter)  # (topic, name) -> events

    def dead_letter_outputs(self) -> list[OutputRecord]:
        """The dead letters as records for the dead-letter topic, keyed like their input."""
        return [OutputRecord(DEAD_LETTERS, record.key or b"", letter) for record, letter in self.dead]


def decode_batch(
    records: Sequence[RawRecord],
    now: datetime,
    max_future: timedelta,
    strict: Collection[str] = (),
    rates: RateTable = DEFAULT_RATES,
) -> Decoded:
    """Decode every record of a batch, in order; a dead letter is logged by its position, not its payload.

    The unknown fields of accepted events are counted by name only: their values may be personal data.
    """
    events: list[tuple[RawRecord, InputEvent]] = []
    dead: list[tuple[RawRecord, DeadLetter]] = []
    unknown: Counter[tuple[str, str]] = Counter()
    for record in records:
        result = decode(record, now, max_future, strict, rates)
        if isinstance(result, DeadLetter):
            dead.append((record, result))
            log.info(
                "dead letter from %s/%d@%d: %s",
                record.topic,
                record.partition,
                record.offset,
                result.reason.value,
            )
        else:
            events.append((record, result))
            if result.model_extra:
                unknown.update((record.topic, name) for name in result.model_extra)
    return Decoded(events, dead, unknown)


def utc_now() -> datetime:
    return datetime.now(UTC)
