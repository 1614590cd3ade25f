"""The Redis state on a real local 3-master Redis Cluster (streams/dev/cluster.py): batched script calls
split by slot, the sharded silence schedule and the claims, also while slots migrate.

The same behaviour on one server: tests/unit/sinks/redis/test_slots.py, test_schedule.py, test_claims.py.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

import pytest
import redis

from sinks.redis.claims import (
    AnyClaim,
    Claim,
    ClaimReply,
    CompareAndSet,
    OfferClaim,
    OfferLimits,
    ResponseClaim,
)
from sinks.redis.client import RedisClient, is_cluster, ping
from sinks.redis.keys import (
    LEGACY_SCHEDULE_KEY,
    SCHEDULE_SHARDS,
    TIER_FIELD,
    cooldown_key,
    customer_keys,
    schedule_key,
    schedule_shard_key,
)
from sinks.redis.schedule import Schedule
from sinks.redis.slots import run_calls, slot_groups, slot_of
from sinks.redis.state import RedisState
from streams import web
from streams.backtest import run
from streams.dev.cluster import EmbeddedRedisCluster
from tests.support.redis_state import make_state, with_client, with_state

T = TypeVar("T")
DAY = 86_400_000
T0 = 20_000 * DAY

#: Appends ARGV[1] to the list KEYS[1] and counts in KEYS[2] (two keys of one customer: one slot).
APPEND = """
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('INCR', KEYS[2])
return redis.call('LRANGE', KEYS[1], 0, -1)
"""


def append_calls(customers: list[str], value: str) -> list[tuple[list[str], list[str]]]:
    return [([f"sb:{{{c}}}:list", f"sb:{{{c}}}:count"], [value]) for c in customers]


# -- connecting and batched calls ------------------------------------------------------------------


def test_a_cluster_url_gives_a_cluster_client_that_answers_on_every_master(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str
) -> None:
    async def body(client: RedisClient) -> tuple[bool, object, object]:
        await client.set("sb:{C1}:probe", "välue")
        return is_cluster(client), await client.ping(), await client.get("sb:{C1}:probe")

    assert with_client(redis_cluster_url, body) == (True, True, "välue")


def test_calls_split_by_slot_run_on_every_master_and_reload_a_flushed_script(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str
) -> None:
    customers = [f"C{n}" for n in range(60)]
    assert len({redis_cluster.node_for_key(f"sb:{{{c}}}:list") for c in customers}) == 3

    async def body(client: RedisClient) -> None:
        script = client.register_script(APPEND)
        keys = [customer_keys(c)[0] for c in customers] + [customer_keys(c)[1] for c in customers]
        groups = slot_groups(client, keys)
        assert len(groups) == len({slot_of(k) for k in keys}) == 60
        assert all(group == [i, i + 60] for i, group in enumerate(groups))  # one customer, in order
        # not loaded anywhere yet: NOSCRIPT from every master, loaded once, sent again
        assert await run_calls(client, script, append_calls(customers, "a")) == [["a"]] * 60
        await client.script_flush()
        assert await run_calls(client, script, append_calls(customers, "b")) == [["a", "b"]] * 60

    with_client(redis_cluster_url, body)
    assert all(n > 0 for n in redis_cluster.keys_per_node())


def test_calls_keep_going_while_their_slots_migrate(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str
) -> None:
    """Batches sent while slots move to another master (ASK for keys already moved, TRYAGAIN for a
    call whose two keys are split for a moment, MOVED afterwards): every call applied exactly once."""
    customers = [f"M{n}" for n in range(40)]
    slots = sorted({slot_of(f"sb:{{{c}}}:list") for c in customers})
    rounds = 30

    async def body(client: RedisClient) -> None:
        script = client.register_script(APPEND)
        await run_calls(client, script, append_calls(customers, "0"))
        # filler keys in the same slots so each migration takes a while
        for c in customers:
            await client.mset({f"sb:{{{c}}}:fill{n}": "x" for n in range(30)})
        by_owner: dict[int, list[int]] = {}
        for slot in slots:
            by_owner.setdefault(redis_cluster.node_for_slot(slot), []).append(slot)

        def migrate() -> None:
            for owner, owned in by_owner.items():
                redis_cluster.migrate_slots(owned, (owner + 1) % 3, pause=0.002, batch=5)

        moving = asyncio.create_task(asyncio.to_thread(migrate))
        for n in range(1, rounds + 1):
            await run_calls(client, script, append_calls(customers, str(n)))
            await asyncio.sleep(0.01)
        await moving
        after = await run_calls(client, script, append_calls(customers, "end"))
        expected = [str(n) for n in range(rounds + 1)] + ["end"]
        assert after == [expected] * len(customers)
        for c in customers:
            assert await client.get(f"sb:{{{c}}}:count") == str(rounds + 2)

    moved_from = {slot: redis_cluster.node_for_slot(slot) for slot in slots}
    try:
        with_client(redis_cluster_url, body)
        assert all(redis_cluster.node_for_slot(s) == (o + 1) % 3 for s, o in moved_from.items())
    finally:  # give the slots back: later tests of the session expect the even split
        for slot, owner in moved_from.items():
            redis_cluster.migrate_slot(slot, owner)
        redis_cluster.wait_ready()


# -- the sharded silence schedule --------------------------------------------------------------------


def test_the_schedule_shards_spread_over_every_master(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str
) -> None:
    owners = {redis_cluster.node_for_key(schedule_shard_key(s)) for s in range(SCHEDULE_SHARDS)}
    assert owners == {0, 1, 2}

    async def body(state: RedisState) -> None:
        schedule = state.schedule
        checks = {f"C{n}": 1_000 + n for n in range(640)}
        await schedule.schedule(checks)
        assert await state.client.zscore(schedule_key("C9"), "C9") == 1_009
        assert await schedule.next_check("C639") == 1_639
        first = await schedule.take_due(10_000, 200, 70_000)
        assert len(first) == len(set(first)) == 200
        rest = await schedule.take_due(10_000, 1_000, 70_000)
        assert sorted([*first, *rest]) == sorted(checks)
        assert await schedule.take_due(10_000, 1_000, 70_000) == []  # all leased
        await schedule.schedule({"C0": 500_000})  # an event meanwhile
        await schedule.settle(dict.fromkeys(first, 200_000) | dict.fromkeys(rest), 70_000)
        assert await schedule.next_check(first[1]) == 200_000
        assert await schedule.next_check("C0") == 500_000
        assert {await schedule.next_check(c) for c in rest if c != "C0"} == {None}

    with_state(redis_cluster_url, body)
    assert all(n > 0 for n in redis_cluster.keys_per_node())


def test_two_takers_on_a_cluster_never_share_a_customer(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str
) -> None:
    async def body(state: RedisState) -> None:
        other = make_state(redis_cluster_url)
        try:
            await state.schedule.schedule({f"C{n}": 1_000 for n in range(300)})
            takes = await asyncio.gather(
                *(s.take_due(5_000, 40, 65_000) for s in (state.schedule, other.schedule) for _ in range(4))
            )
            everyone = [c for t in takes for c in t]
            assert len(everyone) == len(set(everyone)) == 300  # 8 x 40 asked, 300 due
        finally:
            await other.aclose()

    with_state(redis_cluster_url, body)


def test_the_unsharded_schedule_moves_into_the_shards_on_a_cluster(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str
) -> None:
    old = {f"OLD{n}": 1_000 + n for n in range(1_500)}
    seed = redis.cluster.RedisCluster(host="127.0.0.1", port=redis_cluster.ports[0], decode_responses=True)
    try:
        seed.zadd(LEGACY_SCHEDULE_KEY, old)
    finally:
        seed.close()

    async def body(state: RedisState) -> None:
        schedule: Schedule = state.schedule
        assert await schedule.next_check("OLD3") == 1_003  # read from the old key until migrated
        taken = await schedule.take_due(1_100, 50, 70_000)  # the first round migrates
        assert len(taken) == 50 and set(taken) <= {f"OLD{n}" for n in range(101)}
        assert not await state.client.exists(LEGACY_SCHEDULE_KEY)
        assert await schedule.migrate() == 0
        assert await schedule.next_check("OLD1499") == 2_499

    with_state(redis_cluster_url, body)


# -- claims ------------------------------------------------------------------------------------------


def claim_batch() -> list[AnyClaim]:
    """Claims of 40 customers interleaved (one batch), each kind, with groups of the same name."""
    limits = OfferLimits(((1, DAY, "web"),), DAY, (3, 30 * DAY, DAY), 60 * DAY)
    claims: list[AnyClaim] = []
    for n in range(120):
        customer = f"C{n % 40}"
        claims.append(Claim(customer, f"rule:r.{n // 40}", f"sig-{n}", T0, T0 + DAY, "g", 2))
    for n in range(40):
        customer = f"C{n}"
        claims.append(Claim(customer, "alert", f"alert-{n}", T0, T0 + DAY, rank=2))
        claims.append(Claim(customer, "alert", f"alert-again-{n}", T0, T0 + DAY, rank=2))  # in cooldown
        claims.append(CompareAndSet(customer, TIER_FIELD, f"gold-{n}", T0, ""))
        for k in range(2):
            claims.append(
                OfferClaim(
                    customer,
                    f"offer.o{k}",
                    f"oe-{n}-{k}",
                    T0,
                    DAY,
                    ("web", "mobile"),
                    T0 + 7 * DAY,
                    "champion",
                    f"P{k}",
                    limits,
                    "offers:check:2026-12-02",
                    1,
                )
            )
        claims.append(ResponseClaim(customer, f"oe-{n}-0", f"resp-{n}", T0 + 1, "accepted", "P0"))
    return claims


def test_claims_on_a_cluster_answer_as_on_one_server_in_claim_order(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str, redis_url: str
) -> None:
    async def body(state: RedisState) -> list[ClaimReply]:
        replies = await state.claims.claim(claim_batch())
        again = await state.claims.claim(claim_batch())  # a re-delivered batch: re-granted the same
        assert [r.granted for r in again[:120]] == [r.granted for r in replies[:120]]
        assert await state.client.hget(cooldown_key("C7"), TIER_FIELD) == "gold-7"
        return replies

    on_cluster = with_state(redis_cluster_url, body)
    on_one_server = with_state(redis_url, body)
    assert on_cluster == on_one_server
    # per customer: two of three signals (group "g", capacity 2), one alert, the tier, one offer
    # (the group's capacity is the customer's own), the response to it
    assert [r.granted for r in on_cluster[:120]] == [True] * 80 + [False] * 40
    assert [r.granted for r in on_cluster[120:126]] == [True, False, True, True, False, True]
    assert on_cluster[123] == ClaimReply(True, "web", True)
    assert all(n > 0 for n in redis_cluster.keys_per_node())


def test_claims_keep_going_while_their_slots_migrate(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str
) -> None:
    customers = [f"K{n}" for n in range(20)]
    slots = sorted({slot_of(cooldown_key(c)) for c in customers})
    moved_from = {slot: redis_cluster.node_for_slot(slot) for slot in slots}
    rounds = 25

    async def body(state: RedisState) -> None:
        for c in customers:  # filler in the customers' slots, so each migration takes a while
            await state.client.mset({f"sb:{{{c}}}:fill{n}": "x" for n in range(30)})

        def migrate() -> None:
            for slot, owner in moved_from.items():
                redis_cluster.migrate_slot(slot, (owner + 1) % 3, batch=5, pause=0.002)
            redis_cluster.wait_ready()

        moving = asyncio.create_task(asyncio.to_thread(migrate))
        for n in range(rounds):
            batch: list[AnyClaim] = [
                Claim(c, f"rule:m.{n}", f"{c}-{n}", T0 + n, T0 + n + DAY) for c in customers
            ]
            batch += [CompareAndSet(c, TIER_FIELD, f"t{n + 1}", T0, f"t{n}" if n else "") for c in customers]
            assert all(r.granted for r in await state.claims.claim(batch))
            await asyncio.sleep(0.01)
        await moving
        for c in customers:
            held = await state.client.hgetall(cooldown_key(c))
            assert held[TIER_FIELD] == f"t{rounds}"  # every compare-and-set applied once, in order
            assert len(held) == rounds + 1

    try:
        with_state(redis_cluster_url, body)
        assert all(redis_cluster.node_for_slot(s) == (o + 1) % 3 for s, o in moved_from.items())
    finally:
        for slot, owner in moved_from.items():
            redis_cluster.migrate_slot(slot, owner)
        redis_cluster.wait_ready()


# -- tools that used to assume one server ------------------------------------------------------------


def ready(url: str) -> str:
    """What the worker's /readyz probe makes of ``url``: "ready" or the error it reports."""

    async def probe() -> str:
        client = web._ping_client(url)
        try:
            return "ready" if await ping(client) else "no"
        except Exception as exc:
            return type(exc).__name__
        finally:
            await client.aclose()
            web._ping_client.cache_clear()

    return asyncio.run(probe())


def test_readiness_needs_every_master() -> None:
    with EmbeddedRedisCluster(masters=3, persistent=False) as cluster:
        assert ready(cluster.url) == "ready"
        cluster.stop_master(2)  # redis-py's own cluster PING would still answer from another
        assert ready(cluster.url) == "ConnectionError"
        cluster.start_master(2)
        cluster.wait_ready()
        assert ready(cluster.url) == "ready"


def test_replay_empties_every_master(redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str) -> None:
    async def fill(client: RedisClient) -> None:
        for n in range(30):
            await client.set(f"sb:{{C{n}}}:x", "1")

    with_client(redis_cluster_url, fill)
    assert all(n > 0 for n in redis_cluster.keys_per_node())
    with pytest.raises(ValueError, match="not empty"):
        run._prepare(redis_cluster_url, flush=False)
    run._prepare(redis_cluster_url, flush=True)
    assert redis_cluster.keys_per_node() == [0, 0, 0]
    run._prepare(redis_cluster_url, flush=False)  # empty: accepted
