"""Batched script calls: keys grouped by slot, calls run together with replies in order (real Redis).

The same calls on the real local cluster: tests/integration/test_cluster_state.py.
"""

from __future__ import annotations

import pytest
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import ResponseError

from sinks.redis.client import RedisClient, cluster_address, connect, is_cluster
from sinks.redis.keys import cooldown_key, customer_keys
from sinks.redis.slots import run_calls, slot_groups, slot_of
from tests.support.redis_state import with_client

APPEND = "redis.call('RPUSH', KEYS[1], ARGV[1]); return redis.call('LRANGE', KEYS[1], 0, -1)"


def offline_cluster() -> RedisCluster:
    """A cluster client that has sent nothing (grouping keys needs no server)."""
    return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", 1)])


def test_one_server_keeps_every_key_in_one_group_in_order() -> None:
    client = connect("redis://127.0.0.1:1")
    keys = [*customer_keys("A"), cooldown_key("B"), *customer_keys("A")]
    assert not is_cluster(client)
    assert slot_groups(client, keys) == [[0, 1, 2, 3, 4, 5, 6]]
    assert slot_groups(client, []) == []


def test_a_cluster_groups_by_slot_ascending_within_groups_by_first_appearance() -> None:
    client = offline_cluster()
    keys = [customer_keys("A")[0], cooldown_key("B"), customer_keys("A")[1], "sb:{B}:offers", "sb:{C}:x"]
    assert is_cluster(client)
    assert slot_of(keys[0]) == slot_of(keys[2]) != slot_of(keys[1])  # the hash tag decides
    assert slot_groups(client, keys) == [[0, 2], [1, 3], [4]]
    assert slot_groups(client, []) == []


@pytest.mark.parametrize(
    ("url", "seed"),
    [
        ("redis+cluster://10.0.0.1:7000", "redis://10.0.0.1:7000"),
        (
            "rediss+cluster://user:pw@h:6380/0?ssl_cert_reqs=none",
            "rediss://user:pw@h:6380/0?ssl_cert_reqs=none",
        ),
        ("REDIS+CLUSTER://h:1", "redis://h:1"),
        ("redis://h:6379/2", None),
        ("rediss://h:6380", None),
        ("unix:///tmp/redis.sock", None),
    ],
)
def test_cluster_urls_name_their_seed_node_and_others_are_one_server(url: str, seed: str | None) -> None:
    assert cluster_address(url) == seed


def test_a_cluster_url_connects_a_cluster_client_with_the_same_options() -> None:
    client = connect("redis+cluster://127.0.0.1:1", retries=3, timeout_s=1.5)
    assert isinstance(client, RedisCluster) and is_cluster(client)
    assert client.retry.get_retries() == 3
    (seed,) = client.startup_nodes
    assert (seed.host, seed.port) == ("127.0.0.1", 1)
    assert seed.connection_kwargs["socket_timeout"] == 1.5
    assert seed.connection_kwargs["decode_responses"] is True


def test_run_calls_returns_replies_in_call_order_and_loads_a_missing_script(redis_url: str) -> None:
    async def body(client: RedisClient) -> None:
        script = client.register_script(APPEND)
        assert await run_calls(client, script, []) == []
        calls = [([f"k{n % 3}"], [f"v{n}"]) for n in range(7)]
        # the script is not loaded yet: every call is refused with NOSCRIPT, then sent again
        assert await run_calls(client, script, calls) == [
            ["v0"],
            ["v1"],
            ["v2"],
            ["v0", "v3"],
            ["v1", "v4"],
            ["v2", "v5"],
            ["v0", "v3", "v6"],
        ]
        await client.script_flush()
        assert await run_calls(client, script, [(["k0"], ["w"])]) == [["v0", "v3", "v6", "w"]]
        assert await run_calls(client, script, [(["k1"], ["x"]), (["k2"], ["y"])]) == [
            ["v1", "v4", "x"],
            ["v2", "v5", "y"],
        ]

    with_client(redis_url, body)


def test_a_script_error_is_raised_after_the_other_calls_ran(redis_url: str) -> None:
    async def body(client: RedisClient) -> None:
        script = client.register_script("if ARGV[1] == 'bad' then error('bad call') end " + APPEND)
        with pytest.raises(ResponseError, match="bad call"):
            await run_calls(client, script, [(["a"], ["1"]), (["b"], ["bad"]), (["c"], ["3"])])
        assert await client.lrange("a", 0, -1) == ["1"]
        assert await client.lrange("c", 0, -1) == ["3"]

    with_client(redis_url, body)
