"""The embedded Redis: started on a free loopback port, stopped for good (idempotently), restarted
with its data when persistent, and a server that dies at start-up reported with its exit code."""

from __future__ import annotations

import socket

import pytest
import redis

from streams.dev.embedded import EmbeddedRedis, free_port


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_redis_starts_on_the_port_given_and_stops_for_good() -> None:
    port = free_port()
    server = EmbeddedRedis(port)
    assert refused(port) and not server.alive()
    server.start()
    try:
        assert server.alive() and server.url == f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()
    finally:
        server.stop()
    assert not server.alive() and refused(port)
    assert not server._workdir.exists()  # its files are gone with it
    server.stop()  # again (as atexit does): nothing to do


def test_a_free_port_is_free_on_loopback() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))


def test_a_persistent_redis_keeps_its_data_across_a_restart_on_the_same_port() -> None:
    with EmbeddedRedis(persistent=True) as server:
        port = server.port
        client = redis.Redis.from_url(server.url)
        client.set("kept", "yes")
        server.stop(keep_data=True)
        assert refused(port)
        server.start()
        assert server.port == port and client.get("kept") == b"yes"
        client.close()
    assert not server.alive()


def test_without_persistence_a_restart_starts_empty() -> None:
    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url)
        client.set("kept", "yes")
        server.stop(keep_data=True)
        server.start()
        assert client.get("kept") is None
        client.close()


class _Misconfigured(EmbeddedRedis):
    def command(self) -> list[str]:
        return [*super().command(), "--no-such-option", "1"]


def test_a_server_that_exits_at_start_up_is_reported_with_its_exit_code() -> None:
    server = _Misconfigured()
    with pytest.raises(RuntimeError, match=rf"redis exited with code \d+ before listening on {server.port}"):
        server.start()
    assert not server.alive()
    assert "no-such-option" in server.log_tail()
    server.stop()
