"""Connecting to Redis or a Redis Cluster: one client with bounded retries, and the Lua scripts it runs.

``SIGNALBANK_REDIS_URL`` chooses the kind: ``redis://`` / ``rediss://`` (and ``unix://``) connect to
one server, ``redis+cluster://host:port`` / ``rediss+cluster://`` to a cluster through any of its
nodes (redis-py's ``RedisCluster`` finds the others and follows MOVED / ASK). Both kinds get the same
retries and timeouts, and every store takes either (``RedisClient``).
"""

from __future__ import annotations

from importlib import resources
from typing import Any, TypeAlias

import redis
import redis.asyncio as aioredis
import redis.cluster
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import AbstractBackoff, ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry as BlockingRetry

#: Every store, the runtime and the tools take this: one server or a cluster.
RedisClient: TypeAlias = aioredis.Redis | RedisCluster

#: URL schemes naming a cluster, and the scheme redis-py's ``RedisCluster.from_url`` reads instead.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def script(name: str) -> str:
    """Text of one of our Lua scripts (``sinks/redis/lua/<name>``)."""
    return resources.files("sinks.redis").joinpath("lua", name).read_text(encoding="utf-8")


def cluster_address(url: str) -> str | None:
    """The ``redis://`` / ``rediss://`` address of a cluster URL's seed node; None for one server."""
    scheme, sep, rest = url.partition("://")
    plain = CLUSTER_SCHEMES.get(scheme.lower()) if sep else None
    return None if plain is None else f"{plain}://{rest}"


def _backoff() -> AbstractBackoff:
    return ExponentialWithJitterBackoff(base=0.05, cap=2.0)


def _options(retry: Retry | BlockingRetry, timeout_s: float, connect_timeout_s: float) -> dict[str, Any]:
    return {
        "decode_responses": True,
        "retry": retry,
        "retry_on_error": [RedisConnectionError, RedisTimeoutError, ConnectionResetError],
        "socket_timeout": timeout_s,
        "socket_connect_timeout": connect_timeout_s,
        "health_check_interval": 10,
    }


def connect(
    url: str, retries: int = 8, timeout_s: float = 5.0, connect_timeout_s: float = 2.0
) -> RedisClient:
    """Client with bounded exponential backoff on connection errors and timeouts.

    A cluster URL gives a ``RedisCluster`` (nothing is sent until the first command, which reads the
    slot map); the retries then also cover a node that is down or a slot map that changed.
    """
    options = _options(Retry(_backoff(), retries), timeout_s, connect_timeout_s)
    seed = cluster_address(url)
    if seed is not None:
        return RedisCluster.from_url(seed, **options)
    return aioredis.Redis.from_url(url, **options)


def connect_blocking(url: str, retries: int = 2) -> redis.Redis | redis.cluster.RedisCluster:
    """A synchronous client of the same kind, for one-off administration (emptying, sizing a database)."""
    options = _options(BlockingRetry(_backoff(), retries), 5.0, 2.0)
    seed = cluster_address(url)
    if seed is not None:
        return redis.cluster.RedisCluster.from_url(seed, **options)
    return redis.Redis.from_url(url, **options)


async def ping(client: RedisClient) -> bool:
    """PING the server, or every master of a cluster: redis-py's cluster PING asks one node only,
    which would call a cluster with a master down healthy."""
    if isinstance(client, RedisCluster):
        return bool(await client.ping(target_nodes=RedisCluster.PRIMARIES))
    return bool(await client.ping())


def is_cluster(client: RedisClient) -> bool:
    """Whether ``client`` talks to a Redis Cluster (keys of one call must then share a slot)."""
    return isinstance(client, RedisCluster)
