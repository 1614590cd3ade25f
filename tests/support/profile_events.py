"""Input events for profile tests (transactions and logins of one customer), applied to a real Redis,
and a reader of the dedupe ring's layout."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

import redis

from schemas.catalog import TRANSACTIONS
from schemas.common import Channel
from schemas.inputs import InputEvent, Interaction, InteractionKind, Transaction, TransactionKind
from schemas.profile.delta import build_update
from sinks.redis.keys import kafka_position, profile_key
from sinks.redis.profile_state import decode
from sinks.redis.profiles import StoredProfile
from sinks.redis.state import RedisState

DAY0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def tx(
    n: int,
    day: float,
    kind: TransactionKind,
    amount: str,
    bank: str | None = None,
    balance: str | None = None,
    customer: str = "C1",
    account: str = "A1",
    currency: str = "EUR",
) -> Transaction:
    return Transaction(
        event_id=f"t{n}",
        customer_id=customer,
        occurred_at=DAY0 + timedelta(days=day),
        account_id=account,
        kind=kind,
        amount=Decimal(amount),
        currency=currency,
        channel=Channel.MOBILE,
        counterparty_bank=bank,
        balance_after=Decimal(balance) if balance else None,
    )


def login(n: int, day: float, customer: str = "C1") -> Interaction:
    return Interaction(
        event_id=f"l{n}",
        customer_id=customer,
        occurred_at=DAY0 + timedelta(days=day),
        kind=InteractionKind.LOGIN,
        channel=Channel.MOBILE,
    )


async def apply(state: RedisState, events: list[InputEvent]) -> list[StoredProfile]:
    """Apply ``events`` in one call (not read from Kafka), then close ``state``'s client."""
    try:
        return await state.profiles.apply([build_update(e, "SIGNALBANK") for e in events])
    finally:
        await state.aclose()


async def apply_read_at(
    state: RedisState,
    events: list[InputEvent],
    offsets: list[int],
    committed: str,
    topic: str = TRANSACTIONS,
) -> list[StoredProfile]:
    """Apply ``events`` as read from partition 3 of ``topic`` at ``offsets``."""
    updates = [
        build_update(e, "SIGNALBANK", kafka_position(topic, 3, o))
        for e, o in zip(events, offsets, strict=True)
    ]
    try:
        return await state.profiles.apply(updates, committed)
    finally:
        await state.aclose()


def ring_of(client: redis.Redis, customer: str = "C1") -> tuple[list[bytes], list[tuple[int, int, int]]]:
    """The kept hashes, and (topic code, partition, offset) of each pending entry, oldest first."""
    _, state = decode(cast(bytes, client.get(profile_key(customer))))
    return state.kept, [(p.code, p.partition, p.offset) for p in state.pending]


def sha1_prefix(event_id: str, size: int = 6) -> bytes:
    return hashlib.sha1(event_id.encode(), usedforsecurity=False).digest()[:size]
