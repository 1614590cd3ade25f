"""What made the rules run: a trigger of each kind of input event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from agents.trigger import Trigger
from schemas.common import Channel
from schemas.inputs import Customer, Interaction, InteractionKind, TransactionKind
from tests.support.profile_events import DAY0, tx


def test_a_transaction_triggers_with_its_channel_as_text() -> None:
    event = tx(3, 0, TransactionKind.CARD_PAYMENT, "9.99", customer="C7")
    trigger = Trigger.of(event, 1_234, stored_tier="gold")
    assert trigger == Trigger("C7", "t3", 1_234, DAY0, "mobile", "gold")
    assert type(trigger.channel) is str


def test_an_interaction_keeps_its_own_time_zone_and_channel() -> None:
    at = datetime(2026, 3, 1, 9, tzinfo=timezone(timedelta(hours=2)))
    event = Interaction(
        event_id="i1",
        customer_id="C1",
        occurred_at=at,
        kind=InteractionKind.CALL,
        channel=Channel.CALL_CENTRE,
    )
    trigger = Trigger.of(event, int(at.timestamp() * 1000))
    assert (trigger.channel, trigger.occurred_at, trigger.stored_tier) == ("call_centre", at, "")
    assert trigger.occurred_at.astimezone(UTC).hour == 7


def test_master_data_has_no_channel() -> None:
    event = Customer(event_id="m1", customer_id="C2", occurred_at=DAY0)
    assert Trigger.of(event, 5) == Trigger("C2", "m1", 5, DAY0, "", "")
