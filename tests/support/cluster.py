"""Reading the local Redis Cluster (streams/dev/cluster.py) from tests: a client of all its masters,
and the redirections each master answered (from its own INFO counters)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from streams.dev.cluster import EmbeddedRedisCluster


@contextmanager
def cluster_client(cluster: EmbeddedRedisCluster) -> Iterator[redis.RedisCluster]:
    """A synchronous cluster client (bytes replies, like the one-server snapshots), closed after use.

    Its ``scan_iter`` visits every master (redis-py sends SCAN to all primaries and follows each
    master's cursor): ``assert_scan_sees_every_key`` checks that against the masters' DBSIZE.
    """
    client = redis.RedisCluster.from_url(cluster.urls[0])
    try:
        yield client
    finally:
        client.close()


def assert_scan_sees_every_key(client: redis.RedisCluster, cluster: EmbeddedRedisCluster) -> None:
    """The keys the client's SCAN finds are exactly as many as the masters hold together (and on
    more than one master), so a snapshot through it misses no master."""
    per_master = cluster.keys_per_node()
    assert sum(1 for _ in client.scan_iter()) == sum(per_master), per_master
    assert sum(1 for n in per_master if n) > 1, f"keys on one master only: {per_master}"


@dataclass(frozen=True)
class Redirections:
    """What one master counted since its statistics were last reset (``reset_statistics``)."""

    asking: int  # ASKING commands received: a client followed an ASK redirection to this master
    ask: int  # ASK errors answered: a key of a slot it is migrating away was already gone
    moved: int  # MOVED errors answered: a client addressed a slot it no longer owns
    tryagain: int  # TRYAGAIN answered: a multi-key command whose keys were split by a migration


def redirections(cluster: EmbeddedRedisCluster) -> list[Redirections]:
    """Per master (by index): INFO commandstats and errorstats (redis 6.2+) as ``Redirections``."""
    found: list[Redirections] = []
    for url in cluster.urls:
        client = redis.Redis.from_url(url)
        try:
            commands: dict[str, Any] = client.info("commandstats")
            errors: dict[str, Any] = client.info("errorstats")
        finally:
            client.close()

        def count(stats: dict[str, Any], name: str, field: str) -> int:
            return int(stats.get(name, {}).get(field, 0))

        found.append(
            Redirections(
                asking=count(commands, "cmdstat_asking", "calls"),
                ask=count(errors, "errorstat_ASK", "count"),
                moved=count(errors, "errorstat_MOVED", "count"),
                tryagain=count(errors, "errorstat_TRYAGAIN", "count"),
            )
        )
    return found


def reset_statistics(cluster: EmbeddedRedisCluster) -> None:
    """CONFIG RESETSTAT on every master: command and error counts start from 0."""
    for url in cluster.urls:
        client = redis.Redis.from_url(url)
        try:
            client.config_resetstat()
        finally:
            client.close()
