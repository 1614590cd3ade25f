"""What a customer's timeline records of an event and of each output: short summaries, no personal data.

Pure. A summary says what happened in ids, kinds, amounts and rule ids (``card_payment 42.00 EUR``,
``login web``, ``tier silver -> gold``); it never copies names, notes, counterparties or merchants,
so the timeline holds no more personal data than the ids it is kept under.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.inputs import Customer, InputEvent, Interaction, Transaction
from sinks.redis.timeline import TimelineEvent


@dataclass(frozen=True, slots=True)
class TimelineLimits:
    """How many events and outputs each customer's timeline keeps (0 events and outputs: none kept)."""

    events: int = 20
    outputs: int = 20

    @property
    def kept(self) -> bool:
        return self.events > 0 or self.outputs > 0


#: The settings' defaults (``timeline_events``, ``timeline_outputs``).
DEFAULT_TIMELINE = TimelineLimits()


def event_summary(event: InputEvent) -> str:
    """``card_payment 42.00 EUR``, ``login web`` (and the product an interaction names), ``master data``."""
    if isinstance(event, Transaction):
        return f"{event.kind} {event.amount:.2f} {event.currency}"
    if isinstance(event, Interaction):
        product = f" {event.product}" if event.product else ""
        return f"{event.kind} {event.channel}{product}"
    assert isinstance(event, Customer)
    return f"master data, segment {event.segment}"


def event_entry(event: InputEvent, ts_ms: int) -> TimelineEvent:
    """The event's timeline entry (``ts_ms``: its event time in epoch ms)."""
    return TimelineEvent(ts_ms, event.type, event.event_id, event_summary(event))
