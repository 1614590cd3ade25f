"""A customer's timeline entries as stored: the last events and the last outputs about them.

Both live in one string per customer (``timeline_key``): the events, an empty line, the outputs;
one entry a line, ``ts_ms|kind|id|summary``, newest first. A string, not a hash of two fields: its
values are too long for Redis's compact hash encoding, and the hash table cost about 300 bytes more
per customer; an output's topic is not stored either (its kind names it). claim.lua (mode "tl")
writes it in the batch's claim call, so keeping it costs no round trip of its own. Each list is
bounded (the settings' ``timeline_events`` / ``timeline_outputs``) and an entry whose id is already
there is not added again, so a re-delivered event or a re-emitted output leaves the timeline as it
was.

Entries hold ids, kinds, amounts, times and rule ids only, never names or free text from the
input (no interaction notes, no counterparties): whoever can read Redis sees no more than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from schemas.catalog import CHURN_ALERTS, OFFERS, RISK_SIGNALS, SERVICE_ALERTS, SIGNALS, TIER_CHANGES

#: The topic each kind of output goes to (the stored entries name the kind only).
OUTPUT_TOPICS: dict[str, str] = {
    "churn_alert": CHURN_ALERTS,
    "offer": OFFERS,
    "signal": SIGNALS,
    "tier_change": TIER_CHANGES,
    "service_alert": SERVICE_ALERTS,
    "risk_signal": RISK_SIGNALS,
}
#: Between the events and the outputs in the stored string.
SECTION_BREAK = "\n\n"

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
    """An output about the customer: when (its trigger's time), what, its id, a summary."""

    at_ms: int
    kind: str  # churn_alert | offer | signal | tier_change | service_alert | risk_signal (``OUTPUT_TOPICS``)
    output_id: str
    summary: str

    @property
    def topic(self) -> str:
        """The topic the output went to ("" for a kind this version does not know)."""
        return OUTPUT_TOPICS.get(self.kind, "")

    def encode(self) -> str:
        return f"{self.at_ms}|{self.kind}|{self.output_id}|{clean(self.summary)}"

    @classmethod
    def decode(cls, text: str) -> TimelineOutput | None:
        """The entry, or None for one this version cannot read."""
        parts = text.split("|", 3)
        if len(parts) != 4 or not parts[0].lstrip("-").isdigit():
            return None
        return cls(int(parts[0]), parts[1], parts[2], parts[3])


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

    def encode(self) -> str:
        return f"{self.back}|T|{self.at_ms}"


Entry = TypeVar("Entry", TimelineEvent, TimelineOutput)


def decode_entries(raw: str | None, kind: type[Entry]) -> tuple[Entry, ...]:
    """One stored list (newest first), skipping entries this version cannot read."""
    found = (kind.decode(line) for line in (raw or "").split("\n") if line)
    return tuple(entry for entry in found if entry is not None)


def decode_timeline(raw: str | None) -> tuple[tuple[TimelineEvent, ...], tuple[TimelineOutput, ...]]:
    """The stored string as (events, outputs), each newest first."""
    events, _, outputs = (raw or "").partition(SECTION_BREAK)
    return decode_entries(events, TimelineEvent), decode_entries(outputs, TimelineOutput)
