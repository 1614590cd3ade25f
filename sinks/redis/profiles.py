"""Customer profiles in Redis: the worker computes each update, Redis keeps one string per customer.

Each customer's events come from one Kafka partition and so to one worker at a time, which keeps
the profiles it works on in memory (an LRU of ``cache_size`` customers, about 27 KB each), applies a chunk of
updates there (sinks/redis/profile_state.py) and writes each changed profile back in one call per
hash slot, as a compare-and-set on the version it read (lua/profile_write.lua). A writer that lost
its partition in a rebalance and has not noticed yet (a zombie) finds another version, writes
nothing, reads again and re-applies: the dedupe ring then finds the events the new owner applied.
So Redis does a GET on a cache miss and a SET per changed customer and chunk, and nothing else.

Retries with exponential backoff come from redis-py's own ``Retry`` (sinks/redis/client.py); a batch
is only acknowledged to Kafka after this call succeeded, so a Redis outage delays processing but
loses nothing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from schemas.profile.behaviour import Facts
from schemas.profile.delta import MS_PER_DAY, ProfileUpdate
from sinks.redis.client import RedisClient, script
from sinks.redis.keys import (
    PROFILE_PATTERN,
    TIER_FIELD,
    cooldown_key,
    customer_keys,
    customer_of_profile_key,
    profile_key,
)
from sinks.redis.profile_state import ProfileState, decode, from_legacy, parse_committed
from sinks.redis.slots import run_calls, slot_groups

log = logging.getLogger(__name__)

#: Rounds of compare-and-set conflicts one call resolves before giving up (the batch is retried).
MAX_CONFLICT_ROUNDS = 8


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """What the store returns for one update: was it a duplicate, the state fields, the window sums,
    and the event's behaviour facts (for its own rules: they are not in ``state``)."""

    duplicate: bool
    state: dict[str, str]
    sums: tuple[int, ...]
    active_days: int = 0  # days with customer activity, lifetime (the BG/NBD frequency + 1)
    active_bits: int = 0  # bit k: customer activity on the latest event day minus k (the rhythm fields)
    facts: Facts | None = None  # None: neutral (a read, master data, a repeat the behaviour forgot)


class ProfileConflictError(RuntimeError):
    """Other writers kept changing the same profiles: the batch fails and is retried whole."""


@dataclass(slots=True)
class _Loaded:
    """A profile as read, with the version token its write must present ("" when absent)."""

    version: bytes
    state: ProfileState
    tier: str
    legacy: bool = False  # converted from the earlier layout: its old keys go once written

    @property
    def next_version(self) -> int:
        return (int.from_bytes(self.version, "big") + 1) & 0xFFFFFFFF if self.version else 1


class ProfileStore:
    """Applies profile updates and reads profiles: computed here, stored by compare-and-set."""

    def __init__(
        self,
        client: RedisClient,
        retention_days: int,
        dedupe_capacity: int,
        cache_size: int = 20_000,
    ) -> None:
        self._client = client
        self._retention_days = retention_days
        self._dedupe_capacity = dedupe_capacity
        self._cache_size = cache_size
        self._cache: OrderedDict[str, _Loaded] = OrderedDict()
        self._load = client.register_script(script("profile_load.lua"))
        self._write = client.register_script(script("profile_write.lua"))
        self.conflicts = 0  # compare-and-set conflicts seen (another writer): for tests and metrics

    async def apply(self, updates: Sequence[ProfileUpdate], committed: str = "") -> list[StoredProfile]:
        """Apply ``updates`` in order (idempotent by event id) and return each resulting profile.

        ``committed``: the consumer group's committed offsets (``CommittedOffsets.packed``). Each
        dedupe ring tracks its events until then (Kafka may deliver them again); before them, only
        the last ``dedupe_capacity`` ids are kept.
        """
        if not updates:
            return []
        offsets = parse_committed(committed)
        by_customer: dict[str, list[int]] = {}
        for index, update in enumerate(updates):
            by_customer.setdefault(update.customer_id, []).append(index)
        results: list[StoredProfile | None] = [None] * len(updates)
        todo = list(by_customer)
        for _ in range(MAX_CONFLICT_ROUNDS):
            loaded = await self._checkout(todo)
            writes: list[tuple[str, bytes, bytes]] = []
            snapshots: dict[
                str, list[dict[str, str]]
            ] = {}  # each event's fields, given the tier once written
            for customer_id in todo:
                entry = loaded[customer_id]
                state = entry.state
                changed = entry.legacy
                taken: list[dict[str, str]] = []
                for index in by_customer[customer_id]:
                    applied = state.apply(
                        updates[index], self._retention_days, self._dedupe_capacity, offsets
                    )
                    changed = changed or not applied.duplicate
                    fields = dict(state.fields)
                    taken.append(fields)
                    results[index] = StoredProfile(
                        applied.duplicate,
                        fields,
                        state.flat_sums(),
                        state.active_days,
                        state.active,
                        applied.facts,
                    )
                snapshots[customer_id] = taken
                blob = state.encode(entry.next_version) if changed else b""
                writes.append((customer_id, entry.version, blob))
            replies = await self._compare_and_set(writes)
            todo = []
            converted: list[tuple[str, str]] = []
            for (customer_id, _, blob), (written, tier) in zip(writes, replies, strict=True):
                entry = loaded[customer_id]
                if entry.legacy and not tier:
                    tier = entry.tier  # still in the earlier state hash: moved below
                if not written:
                    self.conflicts += 1
                    log.info("customer=%s profile changed by another writer: read again", customer_id)
                    todo.append(customer_id)
                    continue
                if tier:
                    for fields in snapshots[customer_id]:
                        fields[TIER_FIELD] = tier
                if blob:
                    entry.version = blob[:4]
                entry.tier = tier
                if entry.legacy:
                    converted.append((customer_id, tier))
                    entry.legacy = False
                self._checkin(customer_id, entry)
            if converted:
                await self._retire_legacy(converted)
            if not todo:
                return [result for result in results if result is not None]
        raise ProfileConflictError(f"{len(todo)} profiles kept changing under this worker")

    async def customer_ids(self, count: int = 1000) -> AsyncIterator[str]:
        """Every customer with a profile, by SCAN (on a cluster: of every master), in no order."""
        async for key in self._client.scan_iter(match=PROFILE_PATTERN, count=count):
            yield customer_of_profile_key(key.decode() if isinstance(key, bytes) else key)

    async def read(self, customer_id: str, now_ms: int | None = None) -> StoredProfile:
        """Read one profile without changing it (see ``read_many``)."""
        return (await self.read_many([customer_id], now_ms))[0]

    async def read_many(self, customer_ids: Sequence[str], now_ms: int | None = None) -> list[StoredProfile]:
        """Read profiles as Redis holds them, windows as of ``now_ms`` (default: each one's latest
        event day). One this worker holds in memory at the stored version is not fetched again (see
        ``_read``). A profile with no state is empty."""
        if not customer_ids:
            return []
        unique = list(dict.fromkeys(customer_ids))
        loaded = await self._read(unique, {c: e for c in unique if (e := self._cache.get(c)) is not None})
        day = None if now_ms is None else now_ms // MS_PER_DAY
        profiles: list[StoredProfile] = []
        for customer_id in customer_ids:
            entry = loaded[customer_id]
            state = entry.state
            ref = state.ref_day
            sums = state.sums if day is None or ref is None or day <= ref else state.sums_as_of(day)
            fields = dict(state.fields)
            if entry.tier:
                fields[TIER_FIELD] = entry.tier
            flat = tuple(chain.from_iterable(sums))
            profiles.append(StoredProfile(False, fields, flat, state.active_days, state.active))
        return profiles

    async def _retire_legacy(self, converted: Sequence[tuple[str, str]]) -> None:
        """Once converted profiles are written: each tier joins its cooldown hash, the old keys go
        (one pipeline for the chunk)."""
        pipe = self._client.pipeline(transaction=False)
        for customer_id, tier in converted:
            if tier:
                pipe.hsetnx(cooldown_key(customer_id), TIER_FIELD, tier)
            pipe.delete(*customer_keys(customer_id))
        await pipe.execute()

    async def _checkout(self, customer_ids: Sequence[str]) -> dict[str, _Loaded]:
        """The profiles to work on, taken out of the cache (put back only once written)."""
        loaded: dict[str, _Loaded] = {}
        missing: list[str] = []
        for customer_id in customer_ids:
            entry = self._cache.pop(customer_id, None)
            if entry is None:
                missing.append(customer_id)
            else:
                loaded[customer_id] = entry
        if missing:
            loaded.update(await self._read(missing))
        return loaded

    def _checkin(self, customer_id: str, entry: _Loaded) -> None:
        self._cache[customer_id] = entry
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _read(
        self, customer_ids: Sequence[str], held: Mapping[str, _Loaded] | None = None
    ) -> dict[str, _Loaded]:
        """The stored profiles; one ``held`` in memory whose version is still the stored one is
        returned as it is (read-only: only ``apply`` changes a profile), not read and decoded again."""
        held = held or {}
        keys = [profile_key(customer_id) for customer_id in customer_ids]
        calls: list[tuple[list[str], list[Any]]] = []
        groups = slot_groups(self._client, keys)
        for group in groups:
            call_keys: list[str] = []
            versions: list[bytes] = []
            for index in group:
                customer_id = customer_ids[index]
                call_keys.extend((keys[index], cooldown_key(customer_id), *customer_keys(customer_id)))
                entry = held.get(customer_id)
                versions.append(entry.version if entry is not None else b"")
            calls.append((call_keys, versions if held else []))
        replies = await run_calls(self._client, self._load, calls, raw=True)
        loaded: dict[str, _Loaded] = {}
        for group, reply in zip(groups, replies, strict=True):
            for index, item in zip(group, reply, strict=True):
                customer_id = customer_ids[index]
                if item[0] == 1:  # still the version held
                    entry = held[customer_id]
                    loaded[customer_id] = _Loaded(entry.version, entry.state, _text(item[1]))
                else:
                    loaded[customer_id] = _loaded(item)
        return loaded

    async def _compare_and_set(self, writes: Sequence[tuple[str, bytes, bytes]]) -> list[tuple[bool, str]]:
        keys = [profile_key(customer_id) for customer_id, _, _ in writes]
        groups = slot_groups(self._client, keys)
        calls: list[tuple[list[str], list[Any]]] = []
        for group in groups:
            call_keys: list[str] = []
            args: list[Any] = []
            for index in group:
                customer_id, version, blob = writes[index]
                call_keys.extend((keys[index], cooldown_key(customer_id)))
                args.extend((version, blob))
            calls.append((call_keys, args))
        replies = await run_calls(self._client, self._write, calls, raw=True)
        answers: list[tuple[bool, str]] = [(False, "")] * len(writes)
        for group, reply in zip(groups, replies, strict=True):
            for index, (written, tier) in zip(group, reply, strict=True):
                answers[index] = (bool(written), tier.decode() if tier else "")
        return answers


def _text(raw: bytes | None) -> str:
    return raw.decode() if raw else ""


def _loaded(reply: Sequence[Any]) -> _Loaded:
    blob, tier, legacy_state, legacy_days, legacy_ring = reply
    tier_text = _text(tier)
    if blob:
        _, state = decode(blob)
        return _Loaded(blob[:4], state, tier_text)
    if not legacy_state:
        return _Loaded(b"", ProfileState(), tier_text)
    old = _pairs(legacy_state)
    fields = {name.decode(): value.decode() for name, value in old.items() if not name.startswith(b"w:")}
    days = {name.decode(): value for name, value in _pairs(legacy_days).items()}
    state = from_legacy(fields, days, legacy_ring)
    return _Loaded(b"", state, tier_text or fields.get(TIER_FIELD, ""), legacy=True)


def _pairs(flat: Sequence[bytes]) -> Mapping[bytes, bytes]:
    return dict(zip(flat[::2], flat[1::2], strict=True))
