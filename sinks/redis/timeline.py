"""A customer's timeline entries as stored: the last events and the last outputs about them.

Both live in one small hash per customer (``timeline_key``: fields ``events`` and ``outputs``,
entries newline-separated, newest first), written by claim.lua (mode "tl") in the batch's claim call,
so keeping it costs no round trip of its own. Each list is bounded (the settings'
``timeline_events`` / ``timeline_outputs``) and an entry whose id is already there is not added
again, so a re-delivered event or a re-emitted output leaves the timeline as it was.

Entries hold ids, kinds, amounts, times and rule ids only, never names or free text from the
input (no interaction notes, no counterparties): whoever can read Redis sees no more than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

#: Characters an entry's text may not hold: the field and the entry separators.
_SEPARATORS = str.maketrans({"|": "/", "\n": " ", "\t": " "})


def clean(text: str) -> str:
    """``text`` without the separators of a stored entry (summaries are built by us, this is a guard)."""
    return text.translate(_SEPARATORS)


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """An input event as the timeline shows it: when, its type, its id and a short summary."""

    at_ms: int  # event time
    kind: str  # transaction | interaction | customer
    event_id: str
    summary: str  # e.g. "card_payment 42.00 EUR", "login web"

    def encode(self) -> str:
        return f"{self.at_ms}|{self.kind}|{self.event_id}|{clean(self.summary)}"

    @classmethod
    def decode(cls, text: str) -> TimelineEvent | None:
        """The entry, or None for one this version cannot read."""
        parts = text.split("|", 3)
        if len(parts) != 4 or not parts[0].lstrip("-").isdigit():
            return None
        return cls(int(parts[0]), parts[1], parts[2], parts[3])


@dataclass(frozen=True, slots=True)
class TimelineOutput:
    """An output about the customer: when (its trigger's time), where it went, what, its id."""

    at_ms: int
    topic: str
    kind: str  # churn_alert | offer | signal | tier_change | service_alert
    output_id: str
    summary: str

    def encode(self) -> str:
        return f"{self.at_ms}|{self.topic}|{self.kind}|{self.output_id}|{clean(self.summary)}"

    @classmethod
    def decode(cls, text: str) -> TimelineOutput | None:
        """The entry, or None for one this version cannot read."""
        parts = text.split("|", 4)
        if len(parts) != 5 or not parts[0].lstrip("-").isdigit():
            return None
        return cls(int(parts[0]), parts[1], parts[2], parts[3], parts[4])


@dataclass(frozen=True, slots=True)
class TimelineNote:
    """An output entry to add if the claim ``back`` places before the timeline write was granted
    (0: unconditionally, for a tier change re-emitted without a claim)."""

    back: int
    entry: TimelineOutput

    def encode(self) -> str:
        return f"{self.back}|{self.entry.encode()}"


@dataclass(frozen=True, slots=True)
class TagChangesNote:
    """Stands for every tag change the tag claim ``back`` places earlier answers: claim.lua writes
    one ``signal`` entry per change (``tag gained x`` / ``tag lost x``) under the id it gave it."""

    back: int
    at_ms: int
    topic: str

    def encode(self) -> str:
        return f"{self.back}|T|{self.at_ms}|{self.topic}"


Entry = TypeVar("Entry", TimelineEvent, TimelineOutput)


def decode_entries(raw: str | None, kind: type[Entry]) -> tuple[Entry, ...]:
    """A stored list (newest first), skipping entries this version cannot read."""
    found = (kind.decode(line) for line in (raw or "").split("\n") if line)
    return tuple(entry for entry in found if entry is not None)
