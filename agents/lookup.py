"""Reading a stored customer for display: the profile as rules read it, its view now, its explanation.

One place for what the ``profile`` and ``rules explain`` commands and the worker's customer pages
show, so they never differ.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from agents.retention import top_reasons
from rules.evaluate.engine import evaluate
from rules.evaluate.tiers import TierState
from rules.load.ruleset import Ruleset
from rules.tools.explain import Explanation, explain_as_check
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.view import Profile, build_profile, neutral_event
from sinks.redis.keys import TIER_FIELD
from sinks.redis.profiles import ProfileStore


@dataclass(frozen=True, slots=True)
class TierView:
    """The stored tier. The store keeps no time of entry: ``below_since`` is when the tier's ``stay``
    condition stopped holding (None while it holds), ``previous`` the tier before the last change."""

    tier: str
    rank: int
    below_since: str | None
    previous: str
    change_id: str


@dataclass(frozen=True, slots=True)
class ChurnView:
    """The churn score a silence check at the view's time would give."""

    probability: float
    level: str  # "none" below watch
    reasons: tuple[str, ...]  # the largest contributions first


@dataclass(frozen=True, slots=True)
class CustomerView:
    """A customer as of a time: the profile rules read, the stored tier, the churn score."""

    customer_id: str
    as_of: str  # ISO 8601, UTC
    ruleset_version: str
    profile: Profile
    tier: TierView | None
    churn: ChurnView

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


async def read_profile(
    store: ProfileStore, customer_id: str, churn_model: BgNbdParams | None, as_of_ms: int | None = None
) -> Profile | None:
    """The customer's profile as of ``as_of_ms`` (default: their latest event); None if unknown."""
    stored = await store.read(customer_id, as_of_ms)
    if "last_ts" not in stored.state:
        return None
    now_ms = int(stored.state["last_ts"]) if as_of_ms is None else as_of_ms
    return build_profile(
        customer_id, stored.state, stored.sums, now_ms, churn_model, stored.active_days, stored.active_bits
    )


async def customer_view(
    store: ProfileStore,
    ruleset: Ruleset,
    customer_id: str,
    now_ms: int,
    churn_model: BgNbdParams | None = None,
) -> CustomerView | None:
    """The customer as of ``now_ms``, judged as a silence check then would judge them (as the
    retention list does); None if unknown."""
    stored = await store.read(customer_id, now_ms)
    if "last_ts" not in stored.state:
        return None
    profile = build_profile(
        customer_id, stored.state, stored.sums, now_ms, churn_model, stored.active_days, stored.active_bits
    )
    churn = churn_model.probability if churn_model is not None else None
    evaluation = evaluate(ruleset, profile, neutral_event("check", f"view:{now_ms}"), None, churn)
    state = TierState.decode(stored.state.get(TIER_FIELD))
    tier = (
        None
        if state is None
        else TierView(
            state.tier,
            state.rank,
            _iso(state.below_since_ms) if state.below_since_ms else None,
            state.previous,
            state.change_id,
        )
    )
    level = evaluation.level.value if evaluation.level is not None else "none"
    return CustomerView(
        customer_id,
        _iso(now_ms),
        ruleset.version,
        profile,
        tier,
        ChurnView(evaluation.score, level, top_reasons(evaluation)),
    )


async def explain_customer(
    store: ProfileStore,
    ruleset: Ruleset,
    customer_id: str,
    now_ms: int,
    churn_model: BgNbdParams | None = None,
) -> Explanation | None:
    """Explain a stored customer as a silence check at ``now_ms`` would see them; None if unknown."""
    profile = await read_profile(store, customer_id, churn_model, now_ms)
    return None if profile is None else explain_as_check(ruleset, profile, now_ms)
