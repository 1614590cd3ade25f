"""Connecting to Redis: retries on connection errors are bounded, and every Lua script loads."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from importlib import resources
from typing import cast

import pytest
import redis
import redis.asyncio.connection as connection
from redis.exceptions import ConnectionError as RedisConnectionError

from sinks.redis.client import connect, script

LUA_FILES = sorted(p.name for p in resources.files("sinks.redis").joinpath("lua").iterdir())


def free_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("retries", [0, 2])
def test_a_refused_connection_is_retried_the_given_number_of_times_then_fails(
    retries: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = 0
    real_connect = connection.Connection._connect

    async def counted(self: connection.Connection) -> None:
        nonlocal attempts
        attempts += 1
        await real_connect(self)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(connection.Connection, "_connect", counted)

    async def ping() -> None:
        client = connect(f"redis://127.0.0.1:{free_port()}", retries=retries)
        try:
            await client.ping()
        finally:
            await client.aclose()

    with pytest.raises(RedisConnectionError):
        asyncio.run(asyncio.wait_for(ping(), timeout=10))
    assert attempts == retries + 1


def test_a_client_answers_in_text(redis_url: str) -> None:
    async def round_trip() -> str | None:
        client = connect(redis_url)
        try:
            await client.set("k", "välue")
            return cast(str | None, await client.get("k"))
        finally:
            await client.aclose()

    assert asyncio.run(round_trip()) == "välue"


@pytest.mark.parametrize("name", LUA_FILES)
def test_each_lua_file_is_read_whole_and_compiles_on_redis(name: str, redis_url: str) -> None:
    text = script(name)  # each store registers its scripts by these names
    path = resources.files("sinks.redis").joinpath("lua", name)
    assert text == path.read_text(encoding="utf-8") and text.strip()
    client = redis.Redis.from_url(redis_url)
    try:
        sha = client.script_load(text)  # Redis compiles it: a syntax error fails here
    finally:
        client.close()
    assert sha == hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def test_an_unknown_script_is_an_error() -> None:
    with pytest.raises(FileNotFoundError):
        script("nope.lua")
