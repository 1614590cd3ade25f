"""Value tiers with hysteresis: decide from the stored tier and this evaluation whether it changes.

Pure functions. The stored tier lives in the customer's state hash as one string,
``tier|rank|below_since_ms|change_id|previous|since_ms``, written with compare-and-set in the same
round trip as the cooldown claims, so two workers (or a re-delivered event) cannot both move it.
``since_ms`` (when the tier was entered) came later: a stored value without it decodes with 0
(unknown) and keeps 0 until the tier next changes.

- Up: a customer whose highest entered tier ranks above their tier moves up at once.
- Down: a customer whose tier's ``stay`` no longer holds is marked "below since now"; once that
  has lasted the policy's ``hold``, they move to the highest tier they qualify for, kept or entered.
  Any moment the ``stay`` holds again clears the mark, so a balance hovering at a threshold never
  flaps.
- First time: the customer gets the highest tier they enter; only a tier above the lowest is
  announced (everyone starts in the default tier, which would flood the topic).
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.evaluate.engine import Evaluation
from rules.load.model import TierRule
from rules.load.ruleset import Ruleset

FIELD = "tier"


@dataclass(frozen=True, slots=True)
class TierState:
    tier: str
    rank: int
    below_since_ms: int  # 0: the tier's stay condition holds
    change_id: str  # id of the change that set this tier ("" for none announced)
    previous: str  # the tier before that change ("" for none)
    since_ms: int = 0  # when the customer entered this tier (trigger time); 0: unknown (stored before)

    def encode(self) -> str:
        return (
            f"{self.tier}|{self.rank}|{self.below_since_ms}|{self.change_id}|{self.previous}|{self.since_ms}"
        )

    @classmethod
    def decode(cls, raw: str | None) -> TierState | None:
        """The stored state; None when absent or unreadable. Values written before ``since_ms``
        existed have five parts and decode with ``since_ms`` 0."""
        if not raw:
            return None
        parts = raw.split("|")
        if len(parts) not in (5, 6):
            return None
        since = int(parts[5]) if len(parts) == 6 and parts[5] else 0
        return cls(parts[0], int(parts[1]), int(parts[2]), parts[3], parts[4], since)


@dataclass(frozen=True, slots=True)
class TierDecision:
    """The state to store (None: leave it) and, when the tier changes, the tier rule that explains it."""

    state: TierState | None
    changed_to: TierRule | None
    previous: str | None


def decide(
    ruleset: Ruleset, evaluation: Evaluation, current: TierState | None, now_ms: int, change_id: str
) -> TierDecision:
    """What this evaluation does to the customer's tier."""
    if not ruleset.tiers:
        return TierDecision(None, None, None)
    best = evaluation.tiers_entered[0] if evaluation.tiers_entered else ruleset.tiers[-1]
    tiers = ruleset.tiers_by_name
    if current is None or current.tier not in tiers:
        announce = best.rank > ruleset.tiers[-1].rank or (current is not None)
        state = TierState(
            best.tier, best.rank, 0, change_id if announce else "", current.tier if current else "", now_ms
        )
        return TierDecision(state, best if announce else None, current.tier if current else None)
    if best.rank > current.rank:
        state = TierState(best.tier, best.rank, 0, change_id, current.tier, now_ms)
        return TierDecision(state, best, current.tier)
    if current.tier in evaluation.tiers_kept:
        if current.below_since_ms == 0:
            return TierDecision(None, None, None)
        return TierDecision(_with_below(current, 0), None, None)
    if current.below_since_ms == 0:
        return TierDecision(_with_below(current, now_ms), None, None)
    hold_ms = int(ruleset.tier_policy.hold.total_seconds() * 1000)
    if now_ms - current.below_since_ms < hold_ms:
        return TierDecision(None, None, None)
    lower = [
        t for t in ruleset.tiers if t.rank < current.rank and (t.tier in evaluation.tiers_kept or t is best)
    ]
    target = lower[0] if lower else ruleset.tiers[-1]
    state = TierState(target.tier, target.rank, 0, change_id, current.tier, now_ms)
    return TierDecision(state, target, current.tier)


def _with_below(state: TierState, since_ms: int) -> TierState:
    return TierState(state.tier, state.rank, since_ms, state.change_id, state.previous, state.since_ms)
