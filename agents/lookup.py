"""Reading a stored customer for display: the profile as rules read it, its view now, its explanation.

One place for what the ``profile`` and ``rules explain`` commands and the worker's customer pages
show, so they never differ. The view adds what the worker keeps beside the profile: the tag set,
the tier and since when, and the timeline of the last events and outputs (sinks/redis/history.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from agents.retention import top_reasons
from rules.evaluate.engine import evaluate
from rules.evaluate.tiers import TierState
from rules.load.ruleset import Ruleset
from rules.tools.explain import Explanation, explain_as_check
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.view import Profile, build_profile, neutral_event
from sinks.redis.history import History, read_history
from sinks.redis.keys import TIER_FIELD
from sinks.redis.profiles import ProfileStore
from sinks.redis.state import RedisState


@dataclass(frozen=True, slots=True)
class TierView:
    """The stored tier: ``since`` when the customer entered it (None for a tier stored before that was
    kept), ``below_since`` when the tier's ``stay`` condition stopped holding (None while it holds),
    ``previous`` the tier before the last change."""

    tier: str
    rank: int
    below_since: str | None
    previous: str
    change_id: str
    since: str | None = None


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One of the customer's last events: when, its type, its id, a summary without personal data."""

    at: str  # ISO 8601, UTC
    kind: str  # transaction | interaction | customer
    id: str
    summary: str


@dataclass(frozen=True, slots=True)
class OutputItem:
    """One of the last outputs about the customer, with the customer's answer for an offer."""

    at: str  # the trigger's time, ISO 8601 UTC
    topic: str
    kind: str  # churn_alert | offer | signal | tier_change | service_alert | risk_signal
    id: str
    summary: str
    response: str | None  # offers: accepted | declined once answered


@dataclass(frozen=True, slots=True)
class ChurnView:
    """The churn score a silence check at the view's time would give."""

    probability: float
    level: str  # "none" below watch
    reasons: tuple[str, ...]  # the largest contributions first


@dataclass(frozen=True, slots=True)
class CustomerView:
    """A customer as of a time: the profile rules read, the stored tier, the churn score, the current
    tags and the last events and outputs (newest first).

    ``as_json`` is the contract of ``/customers/{id}`` (the web page reads it): keys ``tags`` (sorted),
    ``tags_since`` (tag -> when gained), ``tier`` (with ``since``), ``timeline`` and ``outputs``.
    """

    customer_id: str
    as_of: str  # ISO 8601, UTC
    ruleset_version: str
    profile: Profile
    tier: TierView | None
    churn: ChurnView
    tags: tuple[str, ...] = ()
    tags_since: dict[str, str | None] = field(default_factory=dict)
    timeline: tuple[TimelineItem, ...] = ()
    outputs: tuple[OutputItem, ...] = ()

    def as_json(self) -> dict[str, Any]:
        view = asdict(self)
        for name in ("tags", "timeline", "outputs"):
            view[name] = list(view[name])
        return view


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def history_view(
    history: History, as_of_ms: int
) -> tuple[tuple[str, ...], dict[str, str | None], tuple[TimelineItem, ...], tuple[OutputItem, ...]]:
    """The stored history as the view shows it: tags sorted, times as ISO strings, offers with their
    responses, events and outputs after ``as_of_ms`` left out (a view of the past shows no later
    ones). The tags are the set stored now: the store keeps no earlier sets."""
    tags = tuple(sorted(history.tags))
    since = {tag: _iso(ms) if ms else None for tag, ms in sorted(history.tags.items())}
    timeline = tuple(
        TimelineItem(_iso(e.at_ms), e.kind, e.event_id, e.summary)
        for e in history.events
        if e.at_ms <= as_of_ms
    )
    outputs = tuple(
        OutputItem(
            _iso(o.at_ms),
            o.topic,
            o.kind,
            o.output_id,
            o.summary,
            history.responses.get(o.output_id) if o.kind == "offer" else None,
        )
        for o in history.outputs
        if o.at_ms <= as_of_ms
    )
    return tags, since, timeline, outputs


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
    store: ProfileStore | RedisState,
    ruleset: Ruleset,
    customer_id: str,
    now_ms: int,
    churn_model: BgNbdParams | None = None,
) -> CustomerView | None:
    """The customer as of ``now_ms``, judged as a silence check then would judge them (as the
    retention list does), with the stored tags and timeline; None if unknown.

    ``store``: the worker's whole Redis state, or its profile store (the tags and timeline are then
    read on the store's client, the same connection pool)."""
    profiles = store.profiles if isinstance(store, RedisState) else store
    client = store.client if isinstance(store, RedisState) else store._client
    stored = await profiles.read(customer_id, now_ms)
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
            _iso(state.since_ms) if state.since_ms else None,
        )
    )
    level = evaluation.level.value if evaluation.level is not None else "none"
    tags, since, timeline, outputs = history_view(await read_history(client, customer_id), now_ms)
    return CustomerView(
        customer_id,
        _iso(now_ms),
        ruleset.version,
        profile,
        tier,
        ChurnView(evaluation.score, level, top_reasons(evaluation)),
        tags,
        since,
        timeline,
        outputs,
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
    if profile is None:
        return None
    probability = churn_model.probability if churn_model is not None else None
    return explain_as_check(ruleset, profile, now_ms, probability)
