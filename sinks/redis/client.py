"""Connecting to Redis: one client with bounded retries, and the Lua scripts it runs."""

from __future__ import annotations

from importlib import resources

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def script(name: str) -> str:
    """Text of one of our Lua scripts (``sinks/redis/lua/<name>``)."""
    return resources.files("sinks.redis").joinpath("lua", name).read_text(encoding="utf-8")


def connect(url: str, retries: int = 8) -> aioredis.Redis:
    """Client with bounded exponential backoff on connection errors and timeouts."""
    retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=2.0), retries)
    return aioredis.Redis.from_url(
        url,
        decode_responses=True,
        retry=retry,
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionResetError],
        socket_timeout=5.0,
        socket_connect_timeout=2.0,
        health_check_interval=10,
    )
