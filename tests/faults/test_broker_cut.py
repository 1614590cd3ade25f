"""The worker's connections to the broker cut for 15 s mid-stream (every connection reset, new ones
refused): the worker reconnects, takes the events produced after the cut, and ends with exactly the
profiles of a clean run.

The embedded Tansu broker keeps its data in memory, so restarting it would lose the topics; the
cut is made by a TCP proxy the broker advertises as its address, so every client goes through it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from rules.load.ruleset import Ruleset
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis, free_port
from streams.dev.run import WorkerProcess
from streams.dev.scrape import scrape, total
from streams.kafka.admin import create_topics
from streams.sim.generator import generate
from tests.faults.test_crash_recovery import (
    SCENARIO,
    fresh_db,
    profile_differences,
    reference_profiles,
    snapshot,
)
from tests.support.kafka_io import produce

pytestmark = pytest.mark.faults

CUT_S = 15.0
RECOVERY_S = 180.0


class CuttableProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; ``cut()`` resets every connection and refuses new
    ones until ``restore()``."""

    def __init__(self, port: int, target: int) -> None:
        self.port, self._target = port, target
        self._server = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self._server.settimeout(0.2)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self._closed = threading.Event()
        self.accepted = 0
        self.upstream_failures = 0  # the broker refused or did not answer: told apart from the cut
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._cut.is_set():
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self._target), timeout=5)
            except OSError:
                self.upstream_failures += 1
                _reset(client)
                continue
            # Blocking from here on: the broker holds some answers (a JoinGroup until the group forms)
            # for seconds, and a receive timeout would drop a healthy connection.
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for sock in (source, sink):
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        _reset(sock)

    def cut(self) -> None:
        self._cut.set()
        with self._lock:
            doomed = list(self._open)
        for sock in doomed:
            self._drop(sock)

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self._server.close()

    def state(self) -> str:
        return (
            f"proxy: cut={self._cut.is_set()} accepted={self.accepted} open={len(self._open)} "
            f"upstream failures={self.upstream_failures}"
        )


_RECONNECT_NOISE = ("Unable connect", "NodeNotReadyError", "Unable to update metadata")


def _without_reconnects(log: str, lines: int = 60) -> str:
    """The last lines of a worker log, less the reconnect attempts that repeat every 100 ms."""
    kept = [line for line in log.splitlines() if not any(noise in line for noise in _RECONNECT_NOISE)]
    return "\n".join(kept[-lines:])


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a dropped connection looks to the peer.

    ``close()`` alone does not end a connection another thread is blocked reading (the kernel keeps
    the socket until that ``recv`` returns), so the connection would live on half dead: the peer's
    requests answered by nobody. ``shutdown(SHUT_RD)`` wakes that reader first; it sends nothing.
    """
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


@pytest.fixture
def proxied_broker() -> Iterator[tuple[EmbeddedKafka, CuttableProxy]]:
    proxy_port = free_port()
    with EmbeddedKafka(advertised_port=proxy_port) as broker:
        proxy = CuttableProxy(proxy_port, broker.port)
        try:
            yield broker, proxy
        finally:
            proxy.close()


def test_broker_connection_cut_mid_stream_then_restored_gives_identical_profiles(
    proxied_broker: tuple[EmbeddedKafka, CuttableProxy], redis_server: EmbeddedRedis, ruleset: Ruleset
) -> None:
    broker, proxy = proxied_broker
    bootstrap = f"127.0.0.1:{proxy.port}"
    worker_url = fresh_db(redis_server, 5)
    expected = reference_profiles(fresh_db(redis_server, 6), ruleset)
    create_topics(bootstrap, partitions=4)
    events = [(e.topic, e.key, e.value) for e in generate(SCENARIO)]
    half = len(events) // 2
    sent = produce(bootstrap, events[:half])  # the rest after the cut, when the first half is in

    worker = WorkerProcess(
        f"kafka://{bootstrap}", worker_url, partitions=4, rules_dir=None, app_id=f"cut-{os.getpid()}"
    )
    worker.start()
    client = redis.Redis.from_url(worker_url)
    try:
        worker.wait_ready()

        deadline = time.monotonic() + 120
        while worker.events_read() < sent * 0.5:
            assert worker.alive() and time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.05)
        before_cut = proxy.accepted
        proxy.cut()
        at_cut = worker.events_read()
        cut_until = time.monotonic() + CUT_S
        while time.monotonic() < cut_until:
            assert worker.alive(), f"worker died during the cut:\n{worker.log_tail()}"
            time.sleep(0.5)
        proxy.restore()
        sent += produce(bootstrap, events[half:])

        def stuck(what: str) -> str:
            """Everything needed to tell a slow recovery from a lost one, with the whole worker log kept."""
            samples = scrape(worker.metrics_url)
            outcomes = {
                o: total(samples, "signalbank_events_total", outcome=o) for o in ("processed", "duplicate")
            }
            return (
                f"{what}: {worker.events_read():.0f} of {sent} events counted {outcomes}, "
                f"{at_cut:.0f} at the cut; "
                f"profiles differ at {profile_differences(expected, snapshot(client))}; "
                f"broker alive={broker.alive()}; {proxy.state()}; worker log {worker.log_path}, "
                f"without its reconnect attempts:\n{_without_reconnects(worker.log_tail(2000))}\n"
                f"broker log:\n{broker.log_tail()}"
            )

        # Generous: a request lost in the cut is only given up after the request timeout (30 s), and
        # the group then has to form again; a slow machine needs more than a quiet one.
        deadline = time.monotonic() + RECOVERY_S
        actual = snapshot(client)
        while actual != expected:
            assert worker.alive(), stuck("worker died after the cut")
            assert time.monotonic() < deadline, stuck("profiles not complete after the cut")
            time.sleep(1.0)
            actual = snapshot(client)
        assert worker.events_read() >= sent == len(events) > at_cut
        assert proxy.accepted > before_cut, "the worker never reconnected"
        assert worker.alive()
    finally:
        client.close()
        worker.stop()
