"""A batch retried after Redis failed half-way (profiles applied, claims not) still sends its outputs."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import redis

from agents.decode import decode, utc_now
from agents.outputs import OutputRecord
from rules.load.ruleset import Ruleset
from schemas.catalog import CHURN_ALERTS, DEAD_LETTERS, OFFERS, SIGNALS
from schemas.outputs import DeadLetter
from schemas.profile.delta import build_update
from tests.support.pipeline_story import records
from tests.support.redis_state import make_pipeline, make_state


def kinds(outputs: list[OutputRecord]) -> set[tuple[str, bytes]]:
    """(output topic, customer) pairs: what was decided for whom."""
    return {(o.topic, o.key) for o in outputs if o.topic != DEAD_LETTERS}


def test_retry_after_a_failure_between_update_and_claims_loses_no_output(
    redis_url: str, ruleset: Ruleset
) -> None:
    batch = records()

    async def clean() -> list[OutputRecord]:
        return await make_pipeline(redis_url, ruleset).process(batch)

    async def half_applied_then_retried(retry: bool) -> list[OutputRecord]:
        # the first attempt got as far as the profile update, then Redis went away
        state = make_state(redis_url)
        events = [decode(r, utc_now(), timedelta(days=1)) for r in batch]
        updates = [build_update(e, "SIGNALBANK") for e in events if not isinstance(e, DeadLetter)]
        await state.profiles.apply(updates)
        await state.aclose()
        return await make_pipeline(redis_url, ruleset).process(batch, retry=retry)

    expected = kinds(asyncio.run(clean()))
    assert {t for t, _ in expected} >= {CHURN_ALERTS, OFFERS, SIGNALS}
    redis.Redis.from_url(redis_url).flushdb()
    # The retry evaluates every event against the profile with the whole batch applied (the
    # per-event state is gone), so single outputs can differ (a tag that held mid-batch may not
    # hold at its end); but the churn alerts owed to each customer are still decided and sent.
    retried = kinds(asyncio.run(half_applied_then_retried(retry=True)))
    assert {k for k in retried if k[0] == CHURN_ALERTS} >= {k for k in expected if k[0] == CHURN_ALERTS}
    assert any(k[0] == OFFERS for k in retried)
    redis.Redis.from_url(redis_url).flushdb()
    # without the retry flag the events look re-delivered and their new outputs would be lost
    assert kinds(asyncio.run(half_applied_then_retried(retry=False))) == set()
