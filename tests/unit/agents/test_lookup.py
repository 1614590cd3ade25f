"""A stored customer for display (real Redis): the profile as rules read it, as of a time, explained."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from agents.decode import RawRecord
from agents.lookup import TierView, customer_view, explain_customer, read_profile
from agents.metrics import Metrics
from agents.outputs import OutputRecord
from agents.pipeline import Pipeline, PipelineConfig
from agents.timeline import TimelineLimits
from rules.load.ruleset import Ruleset
from schemas.inputs import InputEvent, TransactionKind
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.delta import build_update
from schemas.profile.fields import NEVER_DAYS
from sinks.redis.keys import TIER_FIELD, cooldown_key
from sinks.redis.state import RedisState
from tests.conftest import RULES_DIR
from tests.support.pipeline_story import records
from tests.support.profile_events import DAY0, login, tx
from tests.support.redis_state import make_state, with_state
from tests.support.story import BASE, encoded, interaction

T = TypeVar("T")
DAY_MS = 86_400_000
#: Paid on day 0 and day 30 (a regular salary), logged in on days 10 and 20, then nothing.
PAID = int((DAY0 + timedelta(days=30)).timestamp() * 1000)
EVENTS: list[InputEvent] = [
    tx(1, 0, TransactionKind.SALARY_CREDIT, "3100.00", balance="4000.00"),
    login(1, 10),
    login(2, 20),
    tx(2, 30, TransactionKind.SALARY_CREDIT, "3100.00", balance="7000.00"),
]


def stored(url: str, body: Callable[[RedisState], Awaitable[T]]) -> T:
    async def go() -> T:
        state = make_state(url)
        try:
            await state.profiles.apply([build_update(e, "SIGNALBANK") for e in EVENTS])
            return await body(state)
        finally:
            await state.aclose()

    return asyncio.run(go())


def test_an_unknown_customer_has_no_profile_and_no_explanation(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        assert await read_profile(state.profiles, "NOBODY", None) is None
        assert await read_profile(state.profiles, "NOBODY", None, PAID) is None
        assert await explain_customer(state.profiles, ruleset, "NOBODY", PAID) is None
        assert await state.client.keys("*NOBODY*") == []  # reading created nothing

    stored(redis_url, body)


def test_the_profile_is_read_as_of_the_latest_event_or_a_given_time(redis_url: str) -> None:
    async def body(state: RedisState) -> None:
        latest = await read_profile(state.profiles, "C1", None)
        later = await read_profile(state.profiles, "C1", None, PAID + 40 * DAY_MS)
        assert latest is not None and later is not None
        assert (latest["customer_id"], latest["days_since_salary"], latest["salary_count_30d"]) == (
            "C1",
            0,
            1,
        )
        assert (latest["days_since_login"], latest["balance_last"]) == (10, 7000.0)
        # 40 days on, the windows have moved on and nothing was written
        assert (later["days_since_salary"], later["salary_count_30d"], later["salary_count_90d"]) == (
            40,
            0,
            2,
        )
        assert later["days_since_contact_update"] == NEVER_DAYS
        assert await read_profile(state.profiles, "C1", None) == latest

    stored(redis_url, body)


def test_the_churn_model_feeds_p_alive(redis_url: str) -> None:
    model = BgNbdParams(r=0.8, alpha=10.0, a=0.9, b=3.0)

    async def body(state: RedisState) -> tuple[float, float]:
        soon = await read_profile(state.profiles, "C1", model, PAID + 5 * DAY_MS)
        late = await read_profile(state.profiles, "C1", model, PAID + 200 * DAY_MS)
        assert soon is not None and late is not None
        assert soon["active_days"] == late["active_days"] == 2
        return soon["p_alive"], late["p_alive"]

    soon, late = stored(redis_url, body)
    assert 1.0 > soon > late > 0.0


def test_a_stored_customer_is_explained_as_a_silence_check_then(redis_url: str, ruleset: Ruleset) -> None:
    async def body(state: RedisState) -> None:
        early = await explain_customer(state.profiles, ruleset, "C1", PAID + 20 * DAY_MS)
        late = await explain_customer(state.profiles, ruleset, "C1", PAID + 40 * DAY_MS)
        assert early is not None and late is not None
        assert (late.customer_id, late.event["type"], late.ruleset_version) == (
            "C1",
            "check",
            ruleset.version,
        )
        fired = {v.id: v.fired for v in late.churn}
        assert fired["churn.salary_stopped"] is True
        assert {v.id: v.fired for v in early.churn}["churn.salary_stopped"] is False
        assert next(v for v in late.churn if v.id == "churn.salary_stopped").reads == {
            "profile.salary_count_90d": 2,
            "profile.days_since_salary": 40,
        }

    stored(redis_url, body)


def test_the_customer_view_is_the_profile_then_with_its_tier_and_the_churn_score_explain_gives(
    redis_url: str, ruleset: Ruleset
) -> None:
    async def body(state: RedisState) -> None:
        at = PAID + 45 * DAY_MS
        assert await customer_view(state.profiles, ruleset, "NOBODY", at) is None
        view = await customer_view(state.profiles, ruleset, "C1", at)
        explanation = await explain_customer(state.profiles, ruleset, "C1", at)
        assert view is not None and explanation is not None
        assert view.profile == await read_profile(state.profiles, "C1", None, at)
        assert (view.customer_id, view.as_of, view.ruleset_version) == (
            "C1",
            "2026-03-17T12:00:00Z",
            ruleset.version,
        )
        assert (view.churn.probability, view.churn.level) == (explanation.score, explanation.level)
        fired = {verdict.id for verdict in explanation.churn if verdict.fired}
        assert view.churn.reasons and set(view.churn.reasons) <= fired
        assert view.tier is None
        await state.client.hset(cooldown_key("C1"), TIER_FIELD, "gold|2|0|change-1|silver")
        tiered = await customer_view(state.profiles, ruleset, "C1", at)
        assert tiered is not None and tiered.tier == TierView("gold", 2, None, "silver", "change-1")
        assert tiered.as_json()["tier"]["tier"] == "gold"

    stored(redis_url, body)


def test_with_the_shipped_fitted_model_the_view_and_the_explanation_give_one_churn_score(
    redis_url: str, ruleset: Ruleset
) -> None:
    """The staff page shows both: the explanation's score must be the probability the view (and
    the worker) gives, not the rules' noisy-OR alone."""
    model = BgNbdParams.load(RULES_DIR / "churn_model.json")
    assert model.probability is not None

    async def body(state: RedisState) -> None:
        at = PAID + 45 * DAY_MS
        view = await customer_view(state.profiles, ruleset, "C1", at, model)
        explanation = await explain_customer(state.profiles, ruleset, "C1", at, model)
        rules_only = await explain_customer(state.profiles, ruleset, "C1", at)
        assert view is not None and explanation is not None and rules_only is not None
        assert (view.churn.probability, view.churn.level) == (explanation.score, explanation.level)
        assert explanation.score != rules_only.score  # the model counts

    stored(redis_url, body)


def output_id(record: OutputRecord) -> str:
    value = record.value
    for name in ("alert_id", "signal_id", "offer_event_id", "change_id"):
        if hasattr(value, name):
            return str(getattr(value, name))
    raise AssertionError(f"no id on {type(value).__name__}")


def test_the_view_holds_the_tags_the_tier_since_when_and_the_last_events_and_outputs(
    redis_url: str, ruleset: Ruleset
) -> None:
    """The story through the worker's pipeline (a timeline of 5 events, 20 outputs), then DRIFT's view."""
    accepted = interaction("DRIFT", "acc", 62, "offer_accepted", reference="offer.credit_card_gold")
    batch = [*records(), RawRecord(accepted[0], 0, 999, b"DRIFT", encoded(accepted))]
    config = PipelineConfig("SIGNALBANK", timedelta(days=1), timeline=TimelineLimits(5, 20))

    async def body(state: RedisState) -> None:
        pipeline = Pipeline(state, lambda: ruleset, Metrics(), config)
        emitted = [o for o in await pipeline.process(batch) if o.key == b"DRIFT"]
        at = int((BASE + timedelta(days=120)).timestamp() * 1000)
        view = await customer_view(state, ruleset, "DRIFT", at)
        assert view is not None
        assert view == await customer_view(state.profiles, ruleset, "DRIFT", at)  # the same on its store
        page = view.as_json()
        # bounded, newest first: the last five events by event time (the acceptance arrived last)
        assert [e["id"] for e in page["timeline"]] == [
            "DRIFT-nps",
            "DRIFT-card",
            "DRIFT-out2",
            "DRIFT-out1",
            "DRIFT-acc",
        ]
        assert page["timeline"][1] == {
            "at": "2026-04-14T10:00:00Z",
            "kind": "transaction",
            "id": "DRIFT-card",
            "summary": "card_payment 50.00 EUR",
        }
        # every output the pipeline sent about DRIFT, newest first, offers with their response
        outputs = page["outputs"]
        assert sorted(o["id"] for o in outputs) == sorted({output_id(o) for o in emitted})
        assert [o["at"] for o in outputs] == sorted((o["at"] for o in outputs), reverse=True)
        offers = {o["id"]: o for o in outputs if o["kind"] == "offer"}
        assert sorted(o["response"] for o in offers.values() if o["response"]) == ["accepted"]
        salary = [o["summary"] for o in outputs if o["summary"].endswith("salary_payer")]
        assert salary == ["tag lost salary_payer", "tag gained salary_payer"]
        assert page["tags"] == sorted(page["tags"]) and "salary_payer" not in page["tags"]
        tier = page["tier"]
        assert tier is not None and tier["since"] is not None and tier["since"] <= page["as_of"]
        # a view of the past shows no later events
        earlier = await customer_view(
            state, ruleset, "DRIFT", int((BASE + timedelta(days=96)).timestamp() * 1000)
        )
        assert earlier is not None and [e.id for e in earlier.timeline][:2] == ["DRIFT-out2", "DRIFT-out1"]

    with_state(redis_url, body)
