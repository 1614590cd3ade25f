"""What made the rules run (an input event, or a silence check with no event), and what they concluded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rules.evaluate.engine import Evaluation
from schemas.inputs import InputEvent, Interaction, Transaction
from sinks.redis.timeline import TimelineEvent


@dataclass(frozen=True, slots=True)
class Trigger:
    """An input event, or a silence check with no event: whose, which id, when, through which channel."""

    customer_id: str
    event_id: str
    ts_ms: int
    occurred_at: datetime
    channel: str  # where the customer acted; "" for master data and silence checks
    stored_tier: str = ""  # the customer's tier state as read with the profile (compare-and-set base)

    @classmethod
    def of(cls, event: InputEvent, ts_ms: int, stored_tier: str = "") -> Trigger:
        channel = str(event.channel) if isinstance(event, Transaction | Interaction) else ""
        return cls(event.customer_id, event.event_id, ts_ms, event.occurred_at, channel, stored_tier)


@dataclass(frozen=True, slots=True)
class Evaluated:
    """One evaluation on its way to the cooldown claims.

    ``duplicate``: the event was re-delivered (or sent twice), so it may only re-emit what was
    already decided for it, under the same ids. ``event``: the input event's timeline entry (None for
    silence checks, which are no events).
    """

    trigger: Trigger
    evaluation: Evaluation
    duplicate: bool = False
    event: TimelineEvent | None = None
