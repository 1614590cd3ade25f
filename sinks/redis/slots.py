"""Batched script calls on one Redis or a Redis Cluster: keys grouped by hash slot, calls sent together.

A script call may only touch keys of one slot in a cluster (else CROSSSLOT), so a batch is split
with ``slot_groups`` into one call per slot, and ``run_calls`` sends the calls at once: on a cluster
in one pipeline, which redis-py splits by node and sends to every node concurrently (one round trip
per node). On one server a batch stays one group, so callers make the same single call as before.

``run_calls`` does what redis-py's own ``Script.__call__`` does per call, for a whole pipeline:
a node that does not know the script yet (``NOSCRIPT``: restarted, failed over, new in the cluster)
gets it loaded and the calls it refused are sent again; MOVED / ASK / TRYAGAIN during a slot
migration are followed by redis-py's cluster pipeline; a call whose connection failed is sent again
on its own through the client's retries (as redis-py resends a single command), so it may run twice
when its reply was lost: the scripts are idempotent for a repeated call (the stores' docstrings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.client import NEVER_DECODE
from redis.commands.core import AsyncScript
from redis.crc import key_slot
from redis.exceptions import ClusterDownError, NoScriptError, SlotNotCoveredError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sinks.redis.client import RedisClient, is_cluster

#: A registered script (``client.register_script``): the same type for both kinds of client.
Script = AsyncScript

#: One script call: its keys (all in one slot on a cluster) and its arguments.
Call = tuple[list[str], list[Any]]

#: Failures after which a call is sent again on its own, through the client's retries.
_RESEND = (RedisConnectionError, RedisTimeoutError, ClusterDownError, SlotNotCoveredError, TryAgainError)


def slot_of(key: str) -> int:
    """The cluster hash slot of ``key`` (its hash tag's, when it has one)."""
    return key_slot(key.encode("utf-8"))


def slot_groups(client: RedisClient, keys: Sequence[str]) -> list[list[int]]:
    """Indexes of ``keys`` grouped so that each group can go in ONE script call.

    One server: one group ``[0, ..., n-1]`` (none for no keys). A cluster: one group per hash slot,
    indexes ascending within a group (so the order of one customer's items is kept), groups in the
    order of their first key.

    >>> from redis.asyncio import Redis
    >>> slot_groups(Redis(), ["sb:{a}:state", "sb:{b}:state", "sb:{a}:days"])
    [[0, 1, 2]]
    """
    if not keys:
        return []
    if not is_cluster(client):
        return [list(range(len(keys)))]
    groups: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(slot_of(key), []).append(index)
    return list(groups.values())


async def run_calls(
    client: RedisClient, script: Script, calls: Sequence[Call], raw: bool = False
) -> list[Any]:
    """Run each ``(keys, args)`` call of ``script``; the replies in the calls' order.

    ``raw``: replies are left as bytes (binary values on a client that decodes responses).

    One call is sent as it is; several go in one pipeline (not a transaction: each call is atomic on
    its own, the calls are not atomic together). Calls are independent: what must happen in order
    (one customer's events) belongs in one call. The first error that is not a redirection, a
    missing script or a failed connection is raised (a Lua error, say), after every call was tried.
    """
    if not calls:
        return []
    if len(calls) == 1 and not raw:
        keys, args = calls[0]
        return [await script(keys=keys, args=args)]
    replies = await _pipelined(client, script.sha, calls, raw)
    missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
    if missing:  # load it once (on a cluster: on every master), then resend what was refused
        script.sha = await client.script_load(script.script)
        again = await _pipelined(client, script.sha, [calls[i] for i in missing], raw)
        for i, reply in zip(missing, again, strict=True):
            replies[i] = reply
    for i, reply in enumerate(replies):
        if isinstance(reply, _RESEND):
            keys, args = calls[i]
            if raw:
                replies[i] = await _evalsha_raw(client, script, keys, args)
            else:
                replies[i] = await script(keys=keys, args=args)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies


async def _evalsha_raw(client: RedisClient, script: Script, keys: list[str], args: list[Any]) -> Any:
    """One call with its reply left as bytes, loading the script first where a node lacks it."""
    options = {NEVER_DECODE: True}
    try:
        return await client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args, **options)
    except NoScriptError:
        script.sha = await client.script_load(script.script)
        return await client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args, **options)


async def _pipelined(client: RedisClient, sha: str, calls: Sequence[Call], raw: bool = False) -> list[Any]:
    """EVALSHA of every call in one pipeline; errors are returned in place of their replies.

    redis-py's cluster pipeline refuses its ``evalsha`` method (it would not reload a missing
    script); sent as a raw command it is routed by its first key like any keyed command, and
    ``run_calls`` reloads the script itself.
    """
    pipe = client.pipeline(transaction=False)
    options = {NEVER_DECODE: True} if raw else {}
    for keys, args in calls:
        pipe.execute_command("EVALSHA", sha, len(keys), *keys, *args, **options)
    return list(await pipe.execute(raise_on_error=False))
