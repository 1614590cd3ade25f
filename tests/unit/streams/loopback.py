"""A loopback port that accepts connections, to see whether building something connected to it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def listening() -> Iterator[socket.socket]:
    """A listening socket on 127.0.0.1 and a free port; nothing answers on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def connections(sock: socket.socket, settle_s: float = 0.2) -> int:
    """How many clients connected to ``sock`` (after ``settle_s`` for late ones); closes them."""
    time.sleep(settle_s)
    accepted = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return accepted
        conn.close()
        accepted += 1
