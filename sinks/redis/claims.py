"""Cooldown, offer and response claims: typed requests for claim.lua, and its replies."""

from __future__ import annotations

from dataclasses import dataclass

from sinks.redis.keys import cooldown_key, customer_keys, offer_log_key


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
    expected: str | None = None  # compare-and-set on the state hash instead: set if it still holds this

    def packed(self) -> tuple[str, str]:
        key = cooldown_key(self.customer_id) if self.expected is None else customer_keys(self.customer_id)[0]
        mode, expected = ("", "") if self.expected is None else ("cas", self.expected)
        return key, (
            f"{self.field}\t{self.output_id}\t{self.now_ms}\t{self.until_ms}\t{self.group}\t"
            f"{self.capacity}\t{int(self.reemit_only)}\t{self.rank}\t{mode}\t{expected}"
        )


@dataclass(frozen=True, slots=True)
class OfferLimits:
    """The contact policy's Redis-enforced limits, in milliseconds (see sinks/lua/claim.lua)."""

    caps: tuple[tuple[int, int, str], ...]  # (count, period, channel or "" for all)
    decline_cooloff_ms: int
    fatigue: tuple[int, int, int]  # (negatives, within, cool-off)
    keep_ms: int  # how long log entries are kept: the longest look-back of any limit

    def packed(self) -> str:
        caps = ";".join(f"{count}:{period}:{channel}" for count, period, channel in self.caps)
        fatigue = ":".join(map(str, self.fatigue))
        return f"{caps}\t{self.decline_cooloff_ms}\t{fatigue}\t{self.keep_ms}"


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

    def packed(self) -> tuple[str, str]:
        return offer_log_key(self.customer_id), (
            f"{self.offer_id}\t{self.offer_event_id}\t{self.now_ms}\t{self.now_ms + self.cooldown_ms}\t"
            f"{self.group}\t{self.capacity}\t{int(self.reemit_only)}\t0\toffer\t"
            f"{','.join(self.channels)}\t{self.expires_ms}\t{self.strategy}\t{self.product}\t"
            f"{self.limits.packed()}"
        )


@dataclass(frozen=True, slots=True)
class ResponseClaim:
    """A customer's answer to an offer, recorded on the matching entry of the offer log."""

    customer_id: str
    reference: str  # offer event id or offer id ("" to match by product)
    event_id: str  # the response's own event id: a re-delivered response is recognised
    now_ms: int
    response: str  # accepted | declined
    product: str

    def packed(self) -> tuple[str, str]:
        return offer_log_key(self.customer_id), (
            f"{self.reference}\t{self.event_id}\t{self.now_ms}\t0\t\t1\t0\t0\tresp\t"
            f"{self.response}\t{self.product}"
        )


@dataclass(frozen=True, slots=True)
class ClaimReply:
    """``granted``; ``detail``: the channel or the reason (offers), the matched offer (responses)."""

    granted: bool
    detail: str = ""
    new: bool = True  # False: re-emitted or already recorded (a re-delivered event)
    strategy: str = ""


def reply_of(claim: Claim | OfferClaim | ResponseClaim, raw: int | str) -> ClaimReply:
    if isinstance(claim, Claim):
        return ClaimReply(bool(raw))
    parts = str(raw).split("|")
    if isinstance(claim, OfferClaim):
        granted = parts[0] == "1"
        return ClaimReply(granted, parts[1], granted and parts[2] == "new")
    if parts[0] == "none":
        return ClaimReply(False)
    return ClaimReply(True, parts[1], parts[0] == "new", parts[2])


AnyClaim = Claim | OfferClaim | ResponseClaim
