"""Cooldown, tier, tag, offer, response and timeline claims: typed requests, packed for claim.lua and its
replies read.

``pack`` is the one place that turns a claim into the script's argument and ``parse`` the one place
that reads its reply, so the field order below is written down once, next to the script's header
(sinks/redis/lua/claim.lua). Every claim is one tab-separated argument (cheap to pack) whose fields
the script reads by position:

==== ============== =================== ============== ================ ================
pos  cooldown       compare-and-set     offer          response         script name
==== ============== =================== ============== ================ ================
1    slot field     cooldown-hash field offer id       reference        field
2    output id      new value           offer event id response event   output_id
3    now ms         now ms              now ms         now ms           now
4    until ms       0                   now + cooldown 0                until_ms
5    group          ""                  group          ""               group
6    capacity       1                   capacity       1                capacity
7    reemit_only    0                   reemit_only    0                reemit_only
8    rank           0                   0              0                rank
9    ""             "cas"               "offer"        "resp"           mode
10   ""             expected            channels       accepted|decl.
11                                      expires ms     product
12                                      strategy
13                                      product
14-17                                   the limits (``OfferLimits``, in that order)
==== ============== =================== ============== ================ ================

Tags (mode "tags", the cooldown hash): 1 ``TAGS_FIELD``, 2 trigger id, 3 now ms, 7 reemit_only,
10 the tags holding now, 11 the tags not judged now, 12 customer id, 13 ruleset version. Timeline
(mode "tl", ``timeline_key``): 3 now ms, 10 events kept, 11 outputs kept, 12 the event's entry,
13... output notes ``back|entry`` (sinks/redis/timeline.py). Fields not listed are the defaults
of the table's cooldown column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sinks.redis.client import RedisClient, script
from sinks.redis.keys import TAGS_FIELD, cooldown_key, offer_log_key, timeline_key
from sinks.redis.slots import run_calls, slot_groups
from sinks.redis.timeline import TagChangesNote, TimelineEvent, TimelineNote


@dataclass(frozen=True, slots=True)
class Claim:
    """A request to occupy a cooldown slot (``field``) of a customer for an output."""

    customer_id: str
    field: str
    output_id: str
    now_ms: int
    until_ms: int
    group: str = ""
    capacity: int = 1
    reemit_only: bool = False  # for duplicates: never take a new slot, only re-emit what was decided
    rank: int = 0  # a higher rank takes a slot still in cooldown (churn level rising)


@dataclass(frozen=True, slots=True)
class CompareAndSet:
    """Set ``field`` of the customer's cooldown hash to ``value`` only if it still holds ``expected``.

    The customer's tier (field ``TIER_FIELD``, next to the cooldown slots: one hash, one slot of a
    cluster, with the customer's other claims): concurrent or repeated decisions cannot both apply
    ("" expects it absent).
    """

    customer_id: str
    field: str
    value: str
    now_ms: int
    expected: str


@dataclass(frozen=True, slots=True)
class OfferLimits:
    """The contact policy's Redis-enforced limits, in milliseconds (see sinks/redis/lua/claim.lua)."""

    caps: tuple[tuple[int, int, str], ...]  # (count, period, channel or "" for all)
    decline_cooloff_ms: int
    fatigue: tuple[int, int, int]  # (negatives, within, cool-off)
    keep_ms: int  # how long log entries are kept: the longest look-back of any limit


@dataclass(frozen=True, slots=True)
class OfferClaim:
    """A request to make an offer: granted only if caps and cool-offs in the offer log allow it."""

    customer_id: str
    offer_id: str
    offer_event_id: str
    now_ms: int
    cooldown_ms: int
    channels: tuple[str, ...]  # preferred first
    expires_ms: int
    strategy: str
    product: str
    limits: OfferLimits
    group: str
    capacity: int
    reemit_only: bool = False


@dataclass(frozen=True, slots=True)
class ResponseClaim:
    """A customer's answer to an offer, recorded on the matching entry of the offer log."""

    customer_id: str
    reference: str  # offer event id or offer id ("" to match by product)
    event_id: str  # the response's own event id: a re-delivered response is recognised
    now_ms: int
    response: str  # accepted | declined
    product: str


@dataclass(frozen=True, slots=True)
class TagClaim:
    """Judge the customer's tag set against the tags holding now: claim.lua stores the new set and
    answers what was gained and lost (each change once, whatever is re-delivered)."""

    customer_id: str
    trigger_id: str  # the event or silence check judged: its changes are re-emitted, never remade
    now_ms: int
    holding: tuple[str, ...]  # sorted: the tags whose condition holds now
    unjudged: tuple[str, ...]  # tags whose every rule failed to evaluate: kept as they are
    version: str  # ruleset version, part of each change's id
    reemit_only: bool = False


@dataclass(frozen=True, slots=True)
class TimelineWrite:
    """The entries one evaluation adds to the customer's timeline, in the claim call that decides
    its outputs: each output's entry only if the claim it needs was granted."""

    customer_id: str
    now_ms: int
    max_events: int
    max_outputs: int
    event: TimelineEvent | None  # None for silence checks
    notes: tuple[TimelineNote | TagChangesNote, ...]


@dataclass(frozen=True, slots=True)
class TagChange:
    """A tag gained or lost, with the id claim.lua gave its signal."""

    tag: str
    gained: bool
    signal_id: str


AnyClaim = Claim | CompareAndSet | OfferClaim | ResponseClaim | TagClaim | TimelineWrite


@dataclass(frozen=True, slots=True)
class ClaimReply:
    """``granted``; ``detail``: the channel or the reason (offers), the matched offer (responses)."""

    granted: bool
    detail: str = ""
    new: bool = True  # False: re-emitted or already recorded (a re-delivered event)
    strategy: str = ""
    tags: tuple[TagChange, ...] = ()  # a tag claim's changes (granted: at least one)


def parse_tag_changes(text: str) -> tuple[TagChange, ...]:
    """``+a:id,-b:id`` (claim.lua's tag reply after its first ``|``) as typed changes."""
    changes = []
    for item in text.split(","):
        if item:
            tag, _, signal_id = item[1:].partition(":")
            changes.append(TagChange(tag, item[0] == "+", signal_id))
    return tuple(changes)


def decode_tag_set(raw: str | None) -> dict[str, int]:
    """The tags a stored ``TAGS_FIELD`` value holds, each with when it was gained (epoch ms)."""
    held = (raw or "").partition("|")[0]
    tags: dict[str, int] = {}
    for item in held.split(","):
        name, _, since = item.partition(":")
        if name:
            tags[name] = int(since or 0)
    return tags


def pack(claim: AnyClaim) -> tuple[str, str]:
    """The key and the argument claim.lua reads for ``claim`` (field order: the module's table)."""
    return _PACKERS[type(claim)](claim)


def _pack_claim(claim: Claim) -> tuple[str, str]:
    return cooldown_key(claim.customer_id), (
        f"{claim.field}\t{claim.output_id}\t{claim.now_ms}\t{claim.until_ms}\t{claim.group}\t"
        f"{claim.capacity}\t{int(claim.reemit_only)}\t{claim.rank}\t\t"
    )


def _pack_cas(claim: CompareAndSet) -> tuple[str, str]:
    return cooldown_key(claim.customer_id), (
        f"{claim.field}\t{claim.value}\t{claim.now_ms}\t0\t\t1\t0\t0\tcas\t{claim.expected}"
    )


def _pack_tags(claim: TagClaim) -> tuple[str, str]:
    return cooldown_key(claim.customer_id), (
        f"{TAGS_FIELD}\t{claim.trigger_id}\t{claim.now_ms}\t0\t\t1\t{int(claim.reemit_only)}\t0\ttags\t"
        f"{','.join(claim.holding)}\t{','.join(claim.unjudged)}\t{claim.customer_id}\t{claim.version}"
    )


def _pack_timeline(claim: TimelineWrite) -> tuple[str, str]:
    event = "" if claim.event is None else claim.event.encode()
    notes = "".join(["\t" + note.encode() for note in claim.notes])
    return timeline_key(claim.customer_id), (
        f"\t\t{claim.now_ms}\t0\t\t1\t0\t0\ttl\t{claim.max_events}\t{claim.max_outputs}\t{event}{notes}"
    )


def _pack_offer(claim: OfferClaim) -> tuple[str, str]:
    limits = claim.limits
    caps = ";".join(f"{count}:{period}:{channel}" for count, period, channel in limits.caps)
    fatigue = ":".join(map(str, limits.fatigue))
    return offer_log_key(claim.customer_id), (
        f"{claim.offer_id}\t{claim.offer_event_id}\t{claim.now_ms}\t{claim.now_ms + claim.cooldown_ms}\t"
        f"{claim.group}\t{claim.capacity}\t{int(claim.reemit_only)}\t0\toffer\t"
        f"{','.join(claim.channels)}\t{claim.expires_ms}\t{claim.strategy}\t{claim.product}\t"
        f"{caps}\t{limits.decline_cooloff_ms}\t{fatigue}\t{limits.keep_ms}"
    )


def _pack_response(claim: ResponseClaim) -> tuple[str, str]:
    return offer_log_key(claim.customer_id), (
        f"{claim.reference}\t{claim.event_id}\t{claim.now_ms}\t0\t\t1\t0\t0\tresp\t"
        f"{claim.response}\t{claim.product}"
    )


#: Each claim type's packing, by its exact type (one dictionary look-up instead of a chain of checks).
_PACKERS: dict[type, Callable[[Any], tuple[str, str]]] = {
    Claim: _pack_claim,
    CompareAndSet: _pack_cas,
    TagClaim: _pack_tags,
    TimelineWrite: _pack_timeline,
    OfferClaim: _pack_offer,
    ResponseClaim: _pack_response,
}


def parse(claim: AnyClaim, raw: int | str) -> ClaimReply:
    """What claim.lua answered for ``claim`` (reply formats: the script's header)."""
    if isinstance(claim, Claim | CompareAndSet | TimelineWrite):
        return ClaimReply(bool(raw))
    if isinstance(claim, TagClaim):  # "new|+a:id,-b:id", "again|...", "" for no change
        kind, _, changes = str(raw).partition("|")
        found = parse_tag_changes(changes)
        return ClaimReply(bool(found), new=kind == "new", tags=found)
    parts = str(raw).split("|")
    if isinstance(claim, OfferClaim):  # "1|channel|new", "1|channel|again" or "0|reason"
        granted = parts[0] == "1"
        return ClaimReply(granted, parts[1], granted and parts[2] == "new")
    if parts[0] == "none":  # else "new|offer|strategy", "again|..." or "answered|..."
        return ClaimReply(False)
    return ClaimReply(True, parts[1], parts[0] == "new", parts[2])


class ClaimStore:
    """Runs claim.lua: a batch's claims in one atomic call per slot, replies in the claims' order.

    One server: the whole batch is ONE call. A cluster: one call per hash slot (a customer's keys
    share their hash tag, so each customer's claims stay together and in order, and an offer group,
    always of one event, is never split), all sent at once (``sinks/redis/slots.py``). The batch is
    then atomic per customer, not as a whole, which nothing relies on: a claim only ever reads and
    writes its own customer's keys.
    """

    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self._script = client.register_script(script("claim.lua"))

    async def claim(self, claims: Sequence[AnyClaim]) -> list[ClaimReply]:
        """Occupy cooldown slots, set tiers, make offers and record responses."""
        packed = [pack(c) for c in claims]
        keys = [key for key, _ in packed]
        groups = slot_groups(self._client, keys)
        calls: list[tuple[list[str], list[Any]]] = [
            ([keys[i] for i in group], [packed[i][1] for i in group]) for group in groups
        ]
        replies: list[int | str] = ["" for _ in claims]
        for group, reply in zip(groups, await run_calls(self._client, self._script, calls), strict=True):
            for i, raw in zip(group, cast(list[int | str], reply), strict=True):
                replies[i] = raw
        return [parse(c, r) for c, r in zip(claims, replies, strict=True)]
