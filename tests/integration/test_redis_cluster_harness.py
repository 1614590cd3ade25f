"""The local Redis Cluster harness (streams/dev/cluster.py) on real servers: the slot map, how keys
hash-tagged by customer spread, redis-py's cluster client following a live slot migration, and a
stopped master coming back with its data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis
from redis.asyncio.cluster import RedisCluster
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from streams.dev.cluster import EmbeddedRedisCluster


def customer_key(customer: int, field: str = "profile") -> str:
    return f"sb:{{cust-{customer}}}:{field}"


def cluster_client(cluster: EmbeddedRedisCluster) -> RedisCluster:
    return RedisCluster.from_url(cluster.urls[0], decode_responses=True)


@pytest.fixture(scope="module")
def persistent_cluster() -> Iterator[EmbeddedRedisCluster]:
    cluster = EmbeddedRedisCluster(masters=3, persistent=True)
    cluster.start()
    yield cluster
    cluster.stop()


def test_three_masters_own_all_slots(redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str) -> None:
    assert redis_cluster_url == f"redis+cluster://127.0.0.1:{redis_cluster.ports[0]}"
    owners = redis_cluster.slot_owners()
    assert sorted(owners) == list(range(REDIS_CLUSTER_HASH_SLOTS))
    per_master = [sum(1 for owner in owners.values() if owner == i) for i in range(3)]
    assert sum(per_master) == REDIS_CLUSTER_HASH_SLOTS
    assert all(count >= 5000 for count in per_master), per_master
    for index in range(3):
        info = redis_cluster.cluster_info(index)
        assert info["cluster_state"] == "ok"
        assert info["cluster_size"] == "3"
        assert info["cluster_known_nodes"] == "3"
        assert info["cluster_slots_assigned"] == str(REDIS_CLUSTER_HASH_SLOTS)
    assert redis_cluster.keys_per_node() == [0, 0, 0]


def test_customer_keys_spread_and_round_trip(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str
) -> None:
    customers = range(600)

    async def write_and_read() -> list[bytes | str | None]:
        client = cluster_client(redis_cluster)
        try:
            for customer in customers:
                # Two keys per customer: the hash tag keeps them on one master (multi-key Lua works).
                await client.set(customer_key(customer), f"p{customer}")
                await client.set(customer_key(customer, "claims"), f"c{customer}")
            return [await client.get(customer_key(customer)) for customer in customers]
        finally:
            await client.aclose()

    assert asyncio.run(write_and_read()) == [f"p{customer}" for customer in customers]
    spread = redis_cluster.keys_per_node()
    assert sum(spread) == 2 * len(customers)
    assert all(count > 300 for count in spread), spread
    for customer in (0, 17, 599):
        owner = redis_cluster.node_for_key(customer_key(customer))
        assert owner == redis_cluster.node_for_key(customer_key(customer, "claims"))
        node = redis.Redis.from_url(redis_cluster.urls[owner], decode_responses=True)
        assert node.get(customer_key(customer)) == f"p{customer}"
        node.close()


def test_client_follows_a_slot_migrated_while_it_writes(
    redis_cluster: EmbeddedRedisCluster, redis_cluster_url: str
) -> None:
    slot = key_slot(customer_key(42).encode())
    source = redis_cluster.node_for_slot(slot)
    target = (source + 1) % 3
    before = [customer_key(42, f"old{n}") for n in range(250)]
    target_node = redis.Redis.from_url(redis_cluster.urls[target], decode_responses=True)
    target_node.config_resetstat()

    async def scenario() -> tuple[list[str], int]:
        client = cluster_client(redis_cluster)
        try:
            for key in before:
                await client.set(key, key)
            written: list[str] = []
            migration = asyncio.create_task(
                asyncio.to_thread(redis_cluster.migrate_slots, [slot], target, pause=0.05, batch=20)
            )
            reads = 0
            while not migration.done():
                key = customer_key(42, f"new{len(written)}")
                await client.set(key, key)  # ASK to the target while the slot is half-moved
                written.append(key)
                probe = before[reads % len(before)]
                assert await client.get(probe) == probe
                reads += 1
            moved = await migration
            assert moved >= len(before)
            # The client's slot map is stale now: MOVED sends it to the target.
            for key in before + written:
                assert await client.get(key) == key
            return written, reads
        finally:
            await client.aclose()

    written, reads = asyncio.run(scenario())
    assert len(written) > 10 and reads > 10, (len(written), reads)
    assert redis_cluster.node_for_slot(slot) == target
    counts = redis_cluster.keys_per_node()
    assert counts[source] == 0
    assert counts[target] == len(before) + len(written)
    # The target saw ASKING: the client really met the half-moved slot and followed ASK.
    asking = target_node.info("commandstats").get("cmdstat_asking", {"calls": 0})
    target_node.close()
    assert asking["calls"] > 0


def test_stopped_master_restarts_with_its_data(persistent_cluster: EmbeddedRedisCluster) -> None:
    persistent_cluster.flushall()
    customers = range(300)

    async def write() -> None:
        client = cluster_client(persistent_cluster)
        try:
            for customer in customers:
                await client.set(customer_key(customer), f"p{customer}")
        finally:
            await client.aclose()

    asyncio.run(write())
    before = persistent_cluster.keys_per_node()
    assert all(count > 0 for count in before), before

    persistent_cluster.stop_master(1)
    assert not persistent_cluster.alive(1)
    with pytest.raises(TimeoutError, match="master 1 is not running"):
        persistent_cluster.wait_ready(timeout=0.2)
    # The other masters keep serving their slots (cluster-require-full-coverage no).
    survivors = [c for c in customers if persistent_cluster.node_for_key(customer_key(c)) != 1]
    for index in (0, 2):
        assert persistent_cluster.cluster_info(index)["cluster_state"] == "ok"

    async def read(which: list[int]) -> list[bytes | str | None]:
        client = cluster_client(persistent_cluster)
        try:
            return [await client.get(customer_key(c)) for c in which]
        finally:
            await client.aclose()

    assert asyncio.run(read(survivors)) == [f"p{c}" for c in survivors]

    persistent_cluster.start_master(1)
    assert persistent_cluster.keys_per_node() == before
    assert asyncio.run(read(list(customers))) == [f"p{c}" for c in customers]
