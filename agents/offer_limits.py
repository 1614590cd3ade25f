"""The contact policy's Redis-enforced limits, in the shape the claim script takes."""

from __future__ import annotations

from datetime import timedelta

from rules.load.ruleset import Ruleset
from sinks.redis.claims import OfferLimits


def _ms(duration: timedelta) -> int:
    return int(duration.total_seconds() * 1000)


_CACHE: dict[str, OfferLimits] = {}


def offer_limits(ruleset: Ruleset) -> OfferLimits:
    """Caps, cool-offs and how long the offer log must remember an offer (computed once per version)."""
    cached = _CACHE.get(ruleset.version)
    if cached is None:
        if len(_CACHE) > 16:
            _CACHE.clear()
        cached = _CACHE[ruleset.version] = _limits(ruleset)
    return cached


def _limits(ruleset: Ruleset) -> OfferLimits:
    policy = ruleset.contact_policy
    fatigue = policy.fatigue
    longest_offer = max((max(o.cooldown, o.valid_for) for o in ruleset.offers), default=timedelta(0))
    keep = max(
        [
            *(cap.period for cap in policy.caps),
            policy.decline_cooloff,
            fatigue.within + fatigue.cooloff + longest_offer,
            longest_offer,
        ]
    )
    return OfferLimits(
        caps=tuple((cap.count, _ms(cap.period), cap.channel or "") for cap in policy.caps),
        decline_cooloff_ms=_ms(policy.decline_cooloff),
        fatigue=(fatigue.negatives, _ms(fatigue.within), _ms(fatigue.cooloff)),
        keep_ms=_ms(keep),
    )
