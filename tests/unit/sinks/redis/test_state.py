"""RedisState: profiles, claims and schedule built by ``redis_state`` on one client (real Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import redis
import redis.asyncio as aioredis

from schemas.inputs import TransactionKind
from schemas.profile.delta import build_update
from sinks.redis.claims import Claim
from sinks.redis.keys import cooldown_key, profile_key, schedule_key
from sinks.redis.profile_state import ProfileState, decode
from sinks.redis.state import RedisState, redis_state
from tests.support.profile_events import tx

T = TypeVar("T")
NAME = "state-under-test"


def on_state(url: str, retention: int, capacity: int, body: Callable[[RedisState], Awaitable[T]]) -> T:
    async def go() -> T:
        client = aioredis.Redis.from_url(url, decode_responses=True, client_name=NAME)
        state = redis_state(client, retention, capacity)
        try:
            return await body(state)
        finally:
            await state.aclose()

    return asyncio.run(go())


def connections_named(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return sum(1 for c in client.client_list() if c.get("name") == NAME)
    finally:
        client.close()


def test_all_three_stores_work_through_the_one_client_and_close_with_it(redis_url: str) -> None:
    async def body(state: RedisState) -> int:
        update = build_update(tx(1, 0, TransactionKind.DEPOSIT, "10.00"), "SIGNALBANK")
        await asyncio.gather(
            state.profiles.apply([update]),
            state.claims.claim([Claim("C1", "alert", "out-1", 1_000, 9_000)]),
            state.schedule.schedule({"C1": 5_000}),
        )
        # what the stores wrote, read back through the shared client
        (stored,) = await state.profiles.read_many(["C1"])
        assert stored.state["last_ts"] == str(update.ts_ms)
        slot = cast(str, await state.client.hget(cooldown_key("C1"), "alert"))
        assert slot.startswith("9000|out-1")
        assert await state.client.zscore(schedule_key("C1"), "C1") == 5_000
        return connections_named(redis_url)

    assert on_state(redis_url, 90, 64, body) >= 1
    assert connections_named(redis_url) == 0  # aclose closed every connection of the stores


def test_the_scripts_are_registered_on_the_state_s_client() -> None:
    client = aioredis.Redis.from_url("redis://127.0.0.1:1", decode_responses=True)
    state = redis_state(client, 90, 64)  # nothing is sent yet: no server needed
    scripts = [
        state.profiles._load,
        state.profiles._write,
        state.claims._script,
        state.schedule._take,
        state.schedule._settle,
        state.schedule._forget_legacy,
    ]
    assert all(s.registered_client is client for s in scripts)
    assert state.client is client


def test_retention_and_dedupe_capacity_reach_the_profile_store(redis_url: str) -> None:
    events = [tx(n, n, TransactionKind.DEPOSIT, "1.00") for n in range(10)]

    async def body(state: RedisState) -> ProfileState:
        await state.profiles.apply([build_update(e, "SIGNALBANK") for e in events])
        blob = await redis.asyncio.Redis.from_url(redis_url).get(profile_key("C1"))
        return decode(cast(bytes, blob))[1]

    stored = on_state(redis_url, 3, 4, body)
    latest = build_update(events[-1], "SIGNALBANK").day
    assert sorted(stored.days) == list(range(latest - 2, latest + 1))  # 3 days kept
    assert (len(stored.kept), len(stored.pending)) == (4, 1)  # 4 hashes kept, the latest one pending
