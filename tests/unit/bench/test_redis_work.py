"""Redis work per event from INFO commandstats, and where a key's bytes go (pure logic, then on a
real Redis)."""

from __future__ import annotations

import redis

from bench.e2e import (
    BenchOptions,
    RedisMeter,
    RedisWork,
    ServerWork,
    commands_of,
    failure_text,
    key_parts,
    offered_rates,
    script_commands,
    shared_keys,
)


def test_commandstats_entries_become_microseconds_and_calls_by_command() -> None:
    info = {
        "cmdstat_evalsha": {"calls": 20, "usec": 16522, "usec_per_call": 826.1},
        "cmdstat_SET": {"calls": 20000, "usec": 2884, "usec_per_call": 0.14},
    }
    assert commands_of(info) == ({"evalsha": 16522, "set": 2884}, {"evalsha": 20, "set": 20000})


def test_our_scripts_commands_are_found_in_their_lua_files() -> None:
    inside = script_commands()
    assert {"hget", "hset", "zadd"} <= inside
    assert not inside & {"evalsha", "eval"}


def test_time_is_summed_over_the_servers_without_counting_script_calls_twice() -> None:
    work = RedisWork(
        1_000,
        (
            ServerWork("master 0", {"evalsha": 30_000, "hset": 10_000}, {}, 0.05),
            ServerWork("master 1", {"evalsha": 10_000, "zadd": 2_000}, {}, 0.01),
        ),
        frozenset({"hset"}),
    )
    assert work.us_per_event == 42.0
    assert work.server_usec(work.servers[0]) == 30_000
    assert round(work.cpu_us_per_event) == 60
    assert work.top(2) == [("evalsha", 40.0), ("hset", 10.0)]


def test_a_key_splits_into_its_customer_and_whatever_suffix_it_has() -> None:
    assert key_parts("sb:{C000123}:p") == ("C000123", "p")
    assert key_parts("sb:{C1}:cooldown") == ("C1", "cooldown")
    assert key_parts("sb:{C1}:offers:2025") == ("C1", "offers:2025")
    assert key_parts("sb:{C1}") == ("C1", "")


def test_the_latency_runs_are_the_fixed_rates_then_the_share_of_the_measured_capacity() -> None:
    options = BenchOptions(latency_rates=(2_000.0,), capacity_share=0.5)
    assert offered_rates(options, 3_000.0) == [(2_000.0, None), (1_500.0, 0.5)]
    assert offered_rates(BenchOptions(latency_rates=(), capacity_share=0.0), 3_000.0) == []


def test_a_failed_run_is_told_by_its_first_line_and_the_workers_last_exception() -> None:
    log = (
        "workers read 0 of 53292 events and nothing for 90s:\n"
        '  File "sinks/redis/profiles.py", line 63, in apply\n'
        "redis.exceptions.RedisClusterException: EVALSHA - all keys must map to the same key slot\n"
        "[INFO] Restarting dead <Agent*: ingest_agent>! Last crash reason: server:RedisClusterException"
    )
    assert failure_text(TimeoutError(log)) == (
        "TimeoutError: workers read 0 of 53292 events and nothing for 90s: (the worker's log: "
        "redis.exceptions.RedisClusterException: EVALSHA - all keys must map to the same key slot)"
    )
    assert failure_text(RuntimeError("no redis-server")) == "RuntimeError: no redis-server"


def test_the_meter_counts_a_script_once_and_what_it_calls_apart_on_a_real_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    meter = RedisMeter([redis_url])
    try:
        sha = client.script_load("for i = 1, 200 do redis.call('HSET', 'k' .. i, 'f', 'v') end return 1")
        meter.reset()
        for _ in range(10):
            client.evalsha(sha, 0)
        work = meter.read(events=100)
    finally:
        client.close()
    (server,) = work.servers
    assert (server.calls["evalsha"], server.calls["hset"]) == (10, 2_000)
    assert work.us_per_event == server.usec["evalsha"] / 100  # HSET's time is inside EVALSHA's
    assert set(server.usec) == {"evalsha", "hset"}  # not the meter's own commands


def test_keys_of_no_one_customer_are_grouped_by_name_without_their_hash_tag(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.set("sb:{C1}:p", "x" * 100)
        client.hset("sb:{C2}:state", "f", "v")
        client.set("sb:{C2}:seen", "x")
        client.zadd("sb:schedule:{s0}", {"C1": 1})
        client.zadd("sb:schedule:{s1}", {"C2": 2})
    finally:
        client.close()
    shared = shared_keys(redis_url)
    assert shared.customers == 2
    assert shared.keys == {"sb:schedule:{*}": 2}
    assert shared.bytes_by_key["sb:schedule:{*}"] > 0
