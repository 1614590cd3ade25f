"""Reading a stored customer for display: the profile as rules read it, and its explanation.

One place for what the ``profile`` and ``rules explain`` commands and the worker's customer pages
show, so they never differ.
"""

from __future__ import annotations

from rules.load.ruleset import Ruleset
from rules.tools.explain import Explanation, explain_as_check
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.view import Profile, build_profile
from sinks.redis.profiles import ProfileStore


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
