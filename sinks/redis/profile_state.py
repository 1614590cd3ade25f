"""One customer's profile as a worker holds it: fields, day and week buckets, window sums, dedupe ring.

Pure: applying an update, and encoding to and decoding from the one Redis string a profile is
stored in (sinks/redis/profiles.py does the I/O). The worker computes every update here and writes
the result back, so Redis stores and compares but computes nothing: each customer's events come
from one Kafka partition, so one worker at a time applies them, and a compare-and-set on the
profile's version fences out any other writer (sinks/redis/lua/profile_write.lua).

Semantics are those of the Lua script this replaced (operations, windows by event-time day,
idempotency by event id), with one documented change: days more than ``DAILY_DAYS`` before the
latest event day are merged into weeks (``week_of``), so windows longer than that slide by whole
weeks: the 90-day window holds every day of the last 90 and at most 6 days more (docs/rules.md).
The 1, 7 and 30-day windows stay exact to the day.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import chain
from operator import add

import msgpack

from schemas.profile import behaviour, rhythm
from schemas.profile.delta import ACCOUNT_OP, ACCOUNT_PREFIX, MAX_ACCOUNTS, ProfileUpdate
from schemas.profile.shape import DAILY_DAYS, METRIC_COUNT, WINDOWS, Metric

#: Bytes of an event id's hash in the dedupe ring (the first bytes of its SHA-1): a new id matches
#: one of 64 kept ones by chance once in ~4 x 10^12 events.
HASH = 6
#: Pending entries beyond this many times the capacity keep only their hash (bounded memory when
#: commits stall for long; a crash test customer had ~80 events uncommitted during a backlog).
PENDING_FACTOR = 4
#: Topic code of an event not read from Kafka (replays, tests): settled from the start.
NOWHERE = 255
#: Layout of the stored string after its 4-byte version (bump when it changes; decode reads older).
FORMAT = 1

_ACTIVE = int(Metric.ACTIVE)
_BALANCE_SUM = int(Metric.BALANCE_SUM)
_DAILY_WINDOWS = tuple(i for i, w in enumerate(WINDOWS) if w <= DAILY_DAYS)
_LONG_WINDOWS = tuple(i for i, w in enumerate(WINDOWS) if w > DAILY_DAYS)


def week_of(day: int) -> int:
    """Week number of an epoch day (weeks of 7 days from 1 January 1970, a Thursday)."""
    return day // 7


def week_last_day(week: int) -> int:
    return week * 7 + 6


@lru_cache(maxsize=16)
def parse_committed(packed: str) -> dict[tuple[int, int], int]:
    """First offset not yet committed by the consumer group, per (topic code, partition)."""
    committed: dict[tuple[int, int], int] = {}
    for item in packed.split(","):
        parts = item.split(":")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            committed[(int(parts[0]), int(parts[1]))] = int(parts[2])
    return committed


def id_hash(event_id: str) -> bytes:
    return hashlib.sha1(event_id.encode(), usedforsecurity=False).digest()[:HASH]


def _position(position: str) -> tuple[int, int, int]:
    """(topic code, partition, offset) of where an event was read; NOWHERE when not from Kafka."""
    parts = position.split(":")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1]), int(parts[2])
    return NOWHERE, 0, 0


@dataclass(frozen=True, slots=True)
class Pending:
    """An event Kafka may deliver again: its id hash and where it was read."""

    hash: bytes
    code: int
    partition: int
    offset: int

    def settled(self, committed: Mapping[tuple[int, int], int]) -> bool:
        """Kafka will never deliver it again: committed, or not read from Kafka at all."""
        if self.code == NOWHERE:
            return True
        upto = committed.get((self.code, self.partition))
        return upto is not None and self.offset < upto


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying one update found: a repeat or not, and the event's behaviour facts.

    ``facts``: the event relative to the customer's behaviour before it (schemas/profile/behaviour.py),
    for this event's rules only, never a profile field; a repeat gets the facts it had when applied
    while the behaviour still keeps them, else None (neutral), as does an event without behaviour
    (master data).
    """

    duplicate: bool
    facts: behaviour.Facts | None = None


@dataclass(slots=True)
class ProfileState:
    """Everything stored for one customer; ``sums`` are derived from the buckets, never stored.

    ``fields``: the named values the rules read (last-seen times, master data, runs, ...) as the
    strings the profile view expects, including ``ref_day`` (the latest event day) and
    ``act_days``. ``days``: daily buckets of the last ``DAILY_DAYS``; ``weeks``: older ones by
    week. ``active``: bit k set when day ``ref_day - k`` had customer activity (within the
    retention), so that ``act_days`` counts each active day once whatever order events arrive in
    (a topic read far behind another brings events weeks late). ``kept``: id hashes of the last
    ``capacity`` settled events, oldest first; ``pending``: events Kafka may still redeliver.
    """

    fields: dict[str, str] = field(default_factory=dict)
    days: dict[int, list[int]] = field(default_factory=dict)
    weeks: dict[int, list[int]] = field(default_factory=dict)
    kept: list[bytes] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    sums: list[list[int]] = field(default_factory=lambda: [[0] * METRIC_COUNT for _ in WINDOWS])
    active: int = 0
    #: What ``encode`` computed for each bucket (by ``_bucket_key``) and field, reused while they
    #: stay the same: most events change one bucket and a few fields of a profile.
    _bucket_parts: dict[int, _Parts] = field(default_factory=dict, repr=False, compare=False)
    _field_parts: dict[str, _FieldParts] = field(default_factory=dict, repr=False, compare=False)
    #: Bumped whenever a bucket other than the latest day's changes, or buckets come or go: what
    #: ``encode`` wrote of the older buckets (``_older``) is reused while it stays the same.
    _generation: int = field(default=0, repr=False, compare=False)
    _older: _Older | None = field(default=None, repr=False, compare=False)

    @property
    def ref_day(self) -> int | None:
        raw = self.fields.get("ref_day")
        return None if raw is None else int(raw)

    @property
    def active_days(self) -> int:
        return int(self.fields.get("act_days", "0"))

    def flat_sums(self) -> tuple[int, ...]:
        return tuple(chain.from_iterable(self.sums))

    # -- applying ---------------------------------------------------------------------------

    def apply(
        self,
        update: ProfileUpdate,
        retention_days: int,
        capacity: int,
        committed: Mapping[tuple[int, int], int],
    ) -> Applied:
        """Apply ``update`` unless it is a repeat (then nothing changes); what the event was."""
        digest = id_hash(update.event_id)
        if digest in self.kept or any(p.hash == digest for p in self.pending):
            return Applied(True, behaviour.recall(self.fields, update.event_id))
        self._remember(digest, update.position, capacity, committed)
        facts = None
        fields, ts = self.fields, update.ts_ms
        previous_last = fields.get("act_last")
        increments: Sequence[int] = update.increments
        for op, name, value in update.ops:
            if op == ACCOUNT_OP:
                others = _account_balance(fields, name, value, ts)
                if others:  # the report counts the total: this account's balance and the others'
                    increments = list(increments)
                    increments[_BALANCE_SUM] += others
            elif op == behaviour.BEHAVIOUR_OP:
                facts = behaviour.apply(fields, value, ts, update.event_id)
            else:
                _apply_op(fields, op, name, value, ts)
        stamp = str(ts)
        _apply_op(fields, "mx", "last_ts", stamp, ts)
        _apply_op(fields, "mn", "first_ts", stamp, ts)
        day = update.day
        ref = self.ref_day
        if ref is None:
            ref = day
            fields["ref_day"] = str(day)
        elif day > ref:
            self._advance(ref, day, retention_days)
            self.active = (self.active << (day - ref)) & ((1 << retention_days) - 1)
            ref = day
            fields["ref_day"] = str(day)
        self._add(day, ref, increments, retention_days, previous_last)
        return Applied(False, facts)

    def _remember(
        self, digest: bytes, position: str, capacity: int, committed: Mapping[tuple[int, int], int]
    ) -> None:
        """Settled pending entries at the front become kept hashes (those behind an unsettled entry
        of another partition wait for it); the oldest pending beyond the bound keep only their
        hash; kept hashes beyond ``capacity`` go."""
        kept, pending = self.kept, self.pending
        settled = 0
        while settled < len(pending) and pending[settled].settled(committed):
            kept.append(pending[settled].hash)
            settled += 1
        if settled:
            del pending[:settled]
        pending.append(Pending(digest, *_position(position)))
        over = len(pending) - PENDING_FACTOR * capacity
        if over > 0:
            kept.extend(p.hash for p in pending[:over])
            del pending[:over]
        if len(kept) > capacity:
            del kept[: len(kept) - capacity]

    def _advance(self, ref: int, day: int, retention_days: int) -> None:
        """Move the latest event day from ``ref`` to ``day``: subtract what leaves each window,
        merge days older than ``DAILY_DAYS`` into weeks, drop weeks past the retention."""
        self._generation += 1
        sums = self.sums
        for d, values in self.days.items():
            leaving = [w for w in _DAILY_WINDOWS if ref - WINDOWS[w] < d <= day - WINDOWS[w]]
            if day - d >= min(DAILY_DAYS, retention_days):  # merged into its week, or dropped
                last = week_last_day(week_of(d))
                dropped = day - d >= retention_days
                leaving.extend(w for w in _LONG_WINDOWS if dropped or day - last >= WINDOWS[w])
            for w in leaving:
                window = sums[w]
                for i, v in enumerate(values):
                    if v:
                        window[i] -= v
        for week, values in self.weeks.items():
            last = week_last_day(week)
            for w in _LONG_WINDOWS:
                width = WINDOWS[w]
                if ref - width < last <= day - width:
                    window = sums[w]
                    for i, v in enumerate(values):
                        if v:
                            window[i] -= v
        for d in [d for d in self.days if day - d >= min(DAILY_DAYS, retention_days)]:
            values = self.days.pop(d)
            if day - d >= retention_days:
                continue  # a retention shorter than DAILY_DAYS: tests only, the settings forbid it
            week = week_of(d)
            target = self.weeks.setdefault(week, [0] * METRIC_COUNT)
            self._bucket_parts.pop(_week_key(week), None)
            for i, v in enumerate(values):
                if v:
                    target[i] += v
        for week in [w for w in self.weeks if day - week_last_day(w) >= retention_days]:
            del self.weeks[week]

    def _add(
        self,
        day: int,
        ref: int,
        increments: Sequence[int],
        retention_days: int,
        previous_last: str | None = None,
    ) -> None:
        """Add an event's increments to its day (or, more than ``DAILY_DAYS`` back, its week); a
        new active day also counts its gaps (``previous_last``: the latest active day before)."""
        age = ref - day
        if age >= retention_days:
            return
        if age:
            self._generation += 1  # an older bucket changes (or appears): ``encode`` writes them again
        if increments[_ACTIVE] > 0 and not self.active >> age & 1:
            rhythm.add_active_day(
                self.fields,
                self.active,
                age,
                None if previous_last is None else int(previous_last),
                day,
                self.active_days,
            )
            self.active |= 1 << age
            self.fields["act_days"] = str(self.active_days + 1)
        if age < DAILY_DAYS:
            bucket = self.days.get(day)
            if bucket is None:
                bucket = self.days[day] = [0] * METRIC_COUNT
            self._bucket_parts.pop(day, None)
            windows = [w for w in range(len(WINDOWS)) if age < WINDOWS[w]]
        else:
            week = week_of(day)
            last = week_last_day(week)
            if ref - last >= retention_days:
                return
            bucket = self.weeks.get(week)
            if bucket is None:
                bucket = self.weeks[week] = [0] * METRIC_COUNT
            self._bucket_parts.pop(_week_key(week), None)
            windows = [w for w in _LONG_WINDOWS if ref - last < WINDOWS[w]]
        for i, v in enumerate(increments):
            if v:
                bucket[i] += v
                for w in windows:
                    self.sums[w][i] += v

    # -- reading ----------------------------------------------------------------------------

    def recount(self) -> None:
        """Window sums from the buckets, as of ``ref_day`` (after decoding)."""
        self.sums = self.sums_as_of(self.ref_day)

    def sums_as_of(self, day: int | None) -> list[list[int]]:
        """Window sums as of ``day`` (>= ref_day), without changing anything."""
        if day is None:
            return [[0] * METRIC_COUNT for _ in WINDOWS]
        # one pass over the days by age (the windows are nested: each the one before plus more
        # days), then each longer window adds the weeks ending within it
        aged = sorted((day - d, v) for d, v in self.days.items() if day >= d)
        sums: list[list[int]] = []
        total = [0] * METRIC_COUNT
        at = 0
        for width in WINDOWS:  # ascending
            while at < len(aged) and aged[at][0] < width:
                total = list(map(add, total, aged[at][1]))
                at += 1
            if width <= DAILY_DAYS:
                sums.append(list(total))  # its own list: the windows are updated one by one later
                continue
            longer = list(total)
            for week, values in self.weeks.items():
                if day - week_last_day(week) < width:
                    longer = list(map(add, longer, values))
            sums.append(longer)
        return sums

    # -- storing ----------------------------------------------------------------------------

    def encode(self, version: int) -> bytes:
        """The stored string: 4-byte version (the compare-and-set token), format, then MessagePack."""
        ref = self.ref_day or 0
        # days: [ref, present, then each day's bucket, the latest first]; weeks: [weeks before the
        # latest event's, then the bucket; the latest first]. Each bucket's MessagePack is kept and
        # reused while the bucket and the mean balance it is stored against stay the same; what
        # follows the latest two days (and the weeks) is reused whole while no older bucket changed.
        older = self._older
        if older is None or older.generation != self._generation or older.ref != ref:
            older = self._older = self._layout(ref)
        # the previous bucket's mean balance: each one's is stored as the difference
        latest_bytes, latest_count, balance = self._chunks(older.latest, 0)
        day_chunks = [older.head, latest_bytes]
        count = 2 + latest_count
        if older.rest_balance != balance or older.rest is None:
            older.rest_balance = balance
            older.rest = self._chunks(older.rest_days, balance)
        rest_bytes, rest_count, balance = older.rest
        day_chunks.append(rest_bytes)
        count += rest_count
        days = _array_header(count) + b"".join(day_chunks)
        if older.weeks_balance != balance or older.weeks is None:
            older.weeks_balance = balance
            older.weeks = self._week_bytes(ref, balance)
        weeks = older.weeks
        names: list[object] = []
        previous = 0  # the previous timestamp: each is stored as the difference from it
        known = self._field_parts
        for name, value in self.fields.items():
            if name == "ref_day":
                continue
            field_parts = known.get(name)
            if field_parts is None or field_parts[0] != value:
                field_parts = known[name] = _parse_field(name, value)
            _, code, stamp, packed = field_parts
            names.append(code)
            if stamp is None:
                names.append(packed - ref if code in _DAY_CODES and type(packed) is int else packed)
            elif packed is _BARE:
                names.append(stamp - previous)
                previous = stamp
            else:
                names.append([stamp - previous, packed])
                previous = stamp
        pending = b"".join(
            p.hash + struct.pack(">BH", p.code, p.partition) + p.offset.to_bytes(6, "big")
            for p in self.pending
        )
        active = self.active.to_bytes((self.active.bit_length() + 7) // 8, "little")
        tail = _pack([b"".join(self.kept), pending, active])
        return b"".join(
            (
                struct.pack(">IB", version & 0xFFFFFFFF, FORMAT),
                _array_header(6),  # [names, days, weeks, kept, pending, active]
                _pack(names),
                days,
                weeks,
                tail[1:],  # the three values without their array header
            )
        )

    def _layout(self, ref: int) -> _Older:
        """Which days ``encode`` writes, the latest two first, and the head of the days array."""
        present = 0
        for d in self.days:
            if not 0 <= ref - d < DAILY_DAYS:
                raise ValueError(f"day {d} is not within {DAILY_DAYS} days of {ref}")
            present |= 1 << (ref - d)
        order = sorted(self.days, reverse=True)
        return _Older(self._generation, ref, _pack(ref) + _pack(present), tuple(order[:2]), tuple(order[2:]))

    def _chunks(self, keys: Sequence[int], balance: int) -> tuple[bytes, int, int]:
        """The buckets of the days ``keys`` stored one after the other from ``balance``: their bytes,
        how many values, the mean balance after them."""
        cache = self._bucket_parts
        chunks: list[bytes] = []
        count = 0
        for d in keys:
            parts = cache.get(d)
            if parts is None or parts[0] != balance:
                parts = cache[d] = _bucket_bytes(self.days[d], balance)
            chunks.append(parts[1])
            count += parts[2]
            balance = parts[3]
        return b"".join(chunks), count, balance

    def _week_bytes(self, ref: int, balance: int) -> bytes:
        """The weeks array, its buckets stored from ``balance`` (the last day's mean balance)."""
        cache = self._bucket_parts
        this_week = week_of(ref)
        ordered = sorted(self.weeks, reverse=True)
        offsets = [this_week - k for k in ordered]
        explicit = bool(offsets) and (offsets[-1] >= 64 or offsets[0] < 0)
        week_chunks = [_pack(-1 if explicit else sum(1 << o for o in offsets))]
        count = 1
        for k in ordered:
            parts = cache.get(_week_key(k))
            if parts is None or parts[0] != balance:
                parts = cache[_week_key(k)] = _bucket_bytes(self.weeks[k], balance)
            if explicit:
                week_chunks.append(_pack(this_week - k))
                count += 1
            week_chunks.append(parts[1])
            count += parts[2]
            balance = parts[3]
        return _array_header(count) + b"".join(week_chunks)


@dataclass(slots=True)
class _Older:
    """What ``encode`` wrote of a profile's older buckets, valid while ``generation`` and ``ref``
    are the state's: the days array's head (ref, present), the latest two days (written each
    time), the other days' bytes from ``rest_balance`` on, and the weeks array from ``weeks_balance``."""

    generation: int
    ref: int
    head: bytes
    latest: tuple[int, ...]
    rest_days: tuple[int, ...]
    rest_balance: int = 0
    rest: tuple[bytes, int, int] | None = None  # bytes, values, the mean balance after them
    weeks_balance: int = 0
    weeks: bytes | None = None


#: One MessagePack packer for every value encoded here (``msgpack.packb`` makes one per call).
_pack: Callable[[object], bytes] = msgpack.Packer(use_bin_type=True).pack


_DATE_EXT = 1  # MessagePack extension type of a date (``_pack_date``)
_BLOB_EXT = 2  # MessagePack extension type of a field that is MessagePack itself (the behaviour)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_PENDING_BYTES = HASH + 9  # hash, topic code (1), partition (2), offset (6)


def decode(blob: bytes) -> tuple[int, ProfileState]:
    """(version, state) of a stored string, window sums recounted."""
    version, fmt = struct.unpack_from(">IB", blob)
    if fmt != FORMAT:
        raise ValueError(f"unknown profile format {fmt}")
    names, days, weeks, kept, pending, active = msgpack.unpackb(blob[5:], raw=False)
    state = ProfileState(active=int.from_bytes(active, "little"))
    fields = state.fields
    ref = days[0]
    previous = 0
    for i in range(0, len(names), 2):
        name, packed = names[i], names[i + 1]
        if name in _TS_CODES and isinstance(packed, int):
            previous += packed
            value = str(previous)
        elif name in _DAY_CODES and isinstance(packed, int):
            value = str(ref + packed)
        elif isinstance(packed, list) and len(packed) == 2:
            previous += packed[0]
            value = f"{previous}|{_unpack_value(packed[1])}"
        else:
            value = _unpack_value(packed)
        fields[_FIELD_NAMES[name] if isinstance(name, int) else name] = value
    if days:
        present = days[1]
        fields["ref_day"] = str(ref)
        at, balance = 2, 0
        for age in range(DAILY_DAYS):
            if present >> age & 1:
                state.days[ref - age], at, balance = _unsparse(days, at, balance)
        this_week = week_of(ref)
        present = weeks[0] if weeks else 0
        at, age = 1, 0
        while at < len(weeks):
            if present == -1:  # offsets written out (a retention over 63 weeks)
                week, at = this_week - weeks[at], at + 1
            else:
                while not present >> age & 1:
                    age += 1
                week, age = this_week - age, age + 1
            state.weeks[week], at, balance = _unsparse(weeks, at, balance)
    state.kept = [kept[i : i + HASH] for i in range(0, len(kept), HASH)]
    for i in range(0, len(pending), _PENDING_BYTES):
        entry = pending[i : i + _PENDING_BYTES]
        code, partition = entry[HASH], int.from_bytes(entry[HASH + 1 : HASH + 3], "big")
        offset = int.from_bytes(entry[HASH + 3 :], "big")
        state.pending.append(Pending(entry[:HASH], code, partition, offset))
    state.recount()
    return version, state


#: Metrics in the order a stored bucket lists them: the ones most days have first, so that the
#: bitmap of a typical day fits one byte. Stored format: never reorder.
_ORDER: tuple[int, ...] = (
    Metric.TXN_COUNT,
    Metric.BALANCE_SUM,
    Metric.CARD_SPEND,
    Metric.LOGIN_COUNT,
    Metric.OUTFLOW,
    Metric.INTERACTION_COUNT,
    Metric.ACTIVE,
    *(m for m in Metric if m not in {0, 8, 10, 6, 2, 11, 14}),
)
_IN, _SALARY, _LOAN, _FEES = Metric.INFLOW, Metric.SALARY_AMOUNT, Metric.LOAN_REPAYMENT, Metric.FEES
_T, _BS, _BN, _CARD, _LOGIN, _OUT, _INT, _ACT = (
    Metric.TXN_COUNT,
    Metric.BALANCE_SUM,
    Metric.BALANCE_N,
    Metric.CARD_SPEND,
    Metric.LOGIN_COUNT,
    Metric.OUTFLOW,
    Metric.INTERACTION_COUNT,
    Metric.ACTIVE,
)


def _stored_values(values: Sequence[int]) -> list[int]:
    """A bucket as stored: metrics that follow from others are kept as the difference, which is
    zero on most days and so left out (salary is inflow; card spend, loan repayments and fees are
    outflow; logins are interactions; most
    transactions carry a balance, activity is every transaction and interaction but salary, fees
    and interest). Exactly reversed by ``_bucket_values``."""
    w = list(values)
    w[_IN] = values[_IN] - values[_SALARY]
    w[_OUT] = values[_OUT] - values[_CARD] - values[_LOAN] - values[_FEES]
    w[_INT] = values[_INT] - values[_LOGIN]
    w[_BN] = values[_T] - values[_BN]
    w[_ACT] = values[_T] + values[_INT] - values[_ACT]
    return w


def _bucket_values(w: list[int]) -> list[int]:
    v = list(w)
    v[_IN] = w[_IN] + w[_SALARY]
    v[_OUT] = w[_OUT] + w[_CARD] + w[_LOAN] + w[_FEES]
    v[_INT] = w[_INT] + w[_LOGIN]
    v[_BN] = w[_T] - w[_BN]
    v[_ACT] = w[_T] + v[_INT] - w[_ACT]
    return v


#: A bucket as ``encode`` wrote it: (the mean balance it was stored against, its MessagePack
#: values without an array header, how many values, the mean balance the next one is stored against).
_Parts = tuple[int, bytes, int, int]
#: A field as ``encode`` writes it: (its string, code or name, its timestamp or None, the packed
#: value or ``_BARE`` when the field is only a timestamp).
_FieldParts = tuple[str, object, int | None, object]
_BARE = object()
_BS_BIT = _ORDER.index(Metric.BALANCE_SUM)


def _week_key(week: int) -> int:
    """Key of a week's bucket among the days' (day numbers are never negative)."""
    return -1 - week


def _bucket_bytes(values: Sequence[int], balance: int) -> _Parts:
    """A bitmap of the non-zero stored values (``_ORDER``; the balance sum always), then those values.

    The balance sum is stored as its difference from the previous bucket's mean balance times this
    bucket's balance count: a balance changes little from one day to the next.
    """
    stored = _stored_values(values)
    total, count = values[_BS], values[_BN]
    stored[_BS] = total - balance * count
    bitmap = 1 << _BS_BIT
    out = [0]
    for bit, metric in enumerate(_ORDER):
        v = stored[metric]
        if v or bit == _BS_BIT:
            bitmap |= 1 << bit
            out.append(v)
    out[0] = bitmap
    packed = _pack(out)
    return balance, packed[len(_array_header(len(out))) :], len(out), total // count if count else balance


def _array_header(count: int) -> bytes:
    """MessagePack's header of an array of ``count`` values."""
    if count <= 15:
        return bytes((0x90 | count,))
    if count <= 0xFFFF:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")


def _unsparse(flat: Sequence[int], at: int, balance: int) -> tuple[list[int], int, int]:
    """The bucket stored at ``flat[at]`` (see ``_sparse``), where the next one starts, and the mean
    balance it is stored against."""
    metrics = _metrics_of(flat[at])
    at += 1
    stored = [0] * METRIC_COUNT
    for metric in metrics:
        if metric >= 0:
            stored[metric] = flat[at]
        at += 1
    values = _bucket_values(stored)
    count = values[_BN]
    values[_BS] = stored[_BS] + balance * count
    return values, at, values[_BS] // count if count else balance


@lru_cache(maxsize=4096)
def _metrics_of(bitmap: int) -> tuple[int, ...]:
    """The metric of each value a bucket's bitmap announces, in order (-1: one this version lacks)."""
    metrics: list[int] = []
    bit = 0
    while bitmap:
        if bitmap & 1:
            metrics.append(_ORDER[bit] if bit < METRIC_COUNT else -1)
        bitmap >>= 1
        bit += 1
    return tuple(metrics)


def _parse_field(name: str, value: str) -> _FieldParts:
    code = _FIELD_CODES.get(name, name)
    if code in _BLOB_CODES:  # MessagePack already (schemas/profile/behaviour.py): stored as bytes
        return value, code, None, msgpack.ExtType(_BLOB_EXT, value.encode("latin-1"))
    if code in _TS_CODES and _canonical_int(value):
        return value, code, int(value), _BARE
    head, bar, rest = value.partition("|")
    if bar and _canonical_int(head):
        return value, code, int(head), _pack_value(rest)
    return value, code, None, _pack_value(value)


def _canonical_int(text: str) -> bool:
    body = text[1:] if text.startswith("-") else text
    return body.isdigit() and body.isascii() and (body == "0" or body[0] != "0") and text != "-0"


def _pack_value(value: str) -> object:
    """A field's string as compactly as MessagePack allows, exactly recoverable: an integer; a
    "ts|value" stamp as [ts, value]; a run "start,last,count" as [start, last - start, count];
    else the string. (``encode`` stores the stamp of a field itself against the timestamp before.)"""
    if _canonical_int(value):
        return int(value)
    head, bar, rest = value.partition("|")
    if bar and _canonical_int(head):
        return [int(head), _pack_value(rest)]
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        packed_date = _pack_date(value)
        if packed_date is not None:
            return packed_date
    parts = value.split(",")
    if len(parts) == 3 and all(_canonical_int(p) for p in parts):
        start, last, count = map(int, parts)
        return [start, last - start, count]
    return value


def _pack_date(value: str) -> msgpack.ExtType | None:
    """An ISO date (a birth date) as days since 1970 in 2 bytes: 4 stored bytes instead of 11."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    days = day.toordinal() - _EPOCH_ORDINAL
    if day.isoformat() != value or not -32768 <= days < 32768:
        return None
    return msgpack.ExtType(_DATE_EXT, days.to_bytes(2, "big", signed=True))


def _unpack_value(packed: object) -> str:
    if isinstance(packed, msgpack.ExtType) and packed.code == _BLOB_EXT:
        return bytes(packed.data).decode("latin-1")
    if isinstance(packed, msgpack.ExtType) and packed.code == _DATE_EXT:
        days = int.from_bytes(packed.data, "big", signed=True)
        return date.fromordinal(days + _EPOCH_ORDINAL).isoformat()
    if isinstance(packed, list):
        if len(packed) == 3:
            return f"{packed[0]},{packed[0] + packed[1]},{packed[2]}"
        return f"{packed[0]}|{_unpack_value(packed[1])}"
    return str(packed)


#: Names stored as one-byte codes (the stored format: append only, never renumber or reuse).
_FIELD_NAMES: tuple[str, ...] = (
    "last_ts",
    "first_ts",
    "act_days",
    "act_first",
    "act_last",
    "activity_ts",
    "balance",
    "login_ts",
    "salary_ts",
    "payee_bank",
    "contact_ts",
    "offer_accept_ts",
    "offer_decline_ts",
    "nps",
    "m:segment",
    "m:marketing_consent",
    "m:kyc_risk",
    "m:birth_date",
    "m:opened_ms",
    "m:household_id",
    "gaps",
    behaviour.BEHAVIOUR_FIELD,
)
_FIELD_CODES = {name: code for code, name in enumerate(_FIELD_NAMES)}
#: Fields whose value is MessagePack as a latin-1 string: stored as its bytes.
_BLOB_CODES = frozenset((_FIELD_CODES[behaviour.BEHAVIOUR_FIELD],))
#: Fields holding an epoch day: stored as the difference from the latest event day.
_DAY_CODES = frozenset((_FIELD_CODES["act_first"], _FIELD_CODES["act_last"]))
#: Fields holding a time (epoch ms): stored as the difference from the timestamp before them.
_TS_CODES = frozenset(
    _FIELD_CODES[name]
    for name in (
        "last_ts",
        "first_ts",
        "activity_ts",
        "login_ts",
        "salary_ts",
        "contact_ts",
        "offer_accept_ts",
        "offer_decline_ts",
    )
)


def _account_balance(fields: dict[str, str], account: str, cents: str, ts: int) -> int:
    """Keep ``account``'s balance when it is its newest by event time; return the sum of the
    customer's other accounts' latest balances (cents), which make the report's total.

    A late report of an account leaves its newer balance in place; the total it counts is its own
    balance and the others' as they are now. Beyond ``MAX_ACCOUNTS`` the account updated longest
    ago (ties: the smaller id) is forgotten, whichever order the reports came in.
    """
    key = ACCOUNT_PREFIX + account
    added = key not in fields
    _apply_op(fields, "sn", key, cents, ts)
    fields.pop("balance", None)  # the one balance of every account of earlier versions: superseded
    accounts = [
        (int(raw.partition("|")[0]), name) for name, raw in fields.items() if name[:2] == ACCOUNT_PREFIX
    ]
    if added and len(accounts) > MAX_ACCOUNTS:
        oldest = min(accounts)
        del fields[oldest[1]]
        accounts.remove(oldest)
    return sum(int(fields[name].partition("|")[2]) for _, name in accounts if name != key)


def _apply_op(fields: dict[str, str], op: str, name: str, value: str, ts: int) -> None:
    """One state operation (schemas/profile/delta.py says what each means)."""
    if op == "mx" or op == "mn":
        current = fields.get(name)
        if current is None:
            fields[name] = value
            return
        new, old = float(value), float(current)
        if (op == "mx" and new > old) or (op == "mn" and new < old):
            fields[name] = value
    elif op == "sn":
        current = fields.get(name)
        if current is not None:
            head, bar, _ = current.partition("|")
            try:
                current_ts: float | None = float(head) if bar else None
            except ValueError:
                current_ts = None
            if current_ts is not None and ts < current_ts:
                return
        fields[name] = f"{ts}|{value}"
    elif op == "rn":
        fields_run = fields.get(name)
        day_text, gap_text = value.split(",")
        day, gap = int(day_text), int(gap_text)
        run: tuple[int, int, int] | None
        if fields_run is None:
            run = (day, day, 1)
        else:
            start, last, count = (int(x) for x in fields_run.split(","))
            if day > last + gap:
                run = (day, day, 1)
            elif day >= start:
                run = (start, max(last, day), count + 1)
            elif start - day <= gap:
                run = (day, last, count + 1)  # a late event from just before the run: it started earlier
            else:
                run = None
        if run is not None:
            fields[name] = f"{run[0]},{run[1]},{run[2]}"


# -- profiles written by the Lua script this replaced -----------------------------------------


def from_legacy(state: Mapping[str, str], days: Mapping[str, bytes], seen: bytes | None) -> ProfileState:
    """Convert the three keys of the earlier layout (state hash, day buckets hash, dedupe ring)."""
    profile = ProfileState()
    for name, value in state.items():
        if name.startswith("w:") or name in ("ids_w", "ids_at", "tier"):
            continue
        profile.fields[name] = value
    ref = profile.ref_day
    if ref is None and days:  # a state hash written before ref_day existed
        ref = max(int(day) for day in days)
        profile.fields["ref_day"] = str(ref)
    if ref is not None:
        for day_text, raw in days.items():
            day = int(day_text)
            if ref - day >= DAILY_DAYS:
                target = profile.weeks.setdefault(week_of(day), [0] * METRIC_COUNT)
            else:
                target = profile.days.setdefault(day, [0] * METRIC_COUNT)
            values = _legacy_bucket(raw)
            for i, v in enumerate(values):
                target[i] += v
            if values[_ACTIVE] > 0 and day <= ref:
                profile.active |= 1 << (ref - day)
    profile.kept, profile.pending = _legacy_ring(seen or b"", state.get("ids_w"), int(state.get("ids_at", 0)))
    profile.recount()
    return profile


def _legacy_bucket(raw: bytes) -> list[int]:
    if raw and raw[0] >= 0x90:
        values = list(msgpack.unpackb(raw))
        if values and values[0] < 0:
            bitmap, packed = -values[0] - 1, iter(values[1:])
            values = [next(packed) if bitmap >> i & 1 else 0 for i in range(METRIC_COUNT)]
    else:
        values = [int(float(v)) for v in raw.decode().split(",") if v]
    values = [int(v) for v in values[:METRIC_COUNT]]
    return values + [0] * (METRIC_COUNT - len(values))


def _legacy_ring(ring: bytes, layout: str | None, at: int) -> tuple[list[bytes], list[Pending]]:
    if layout == "tiers":
        if len(ring) < 2:
            return [], []
        count = int.from_bytes(ring[:2], "big")
        boundary = 2 + count * HASH
        kept = [ring[i : i + HASH] for i in range(2, boundary, HASH)]
        pending: list[Pending] = []
        for i in range(boundary, len(ring), 15):
            entry = ring[i : i + 15]
            code, partition, high, low = struct.unpack(">BHHI", entry[HASH:])
            pending.append(Pending(entry[:HASH], code, partition, high * 2**32 + low))
        return kept, pending
    width = 6 if layout == "6" else 8
    slots = len(ring) // width
    empty = b"\0" * width
    kept = []
    for i in range(slots):
        start = ((at + i) % slots) * width
        slot = ring[start : start + width]
        if slot != empty:
            kept.append(slot[:HASH])
    return kept, []


__all__ = ["DAILY_DAYS", "ProfileState", "decode", "from_legacy", "parse_committed", "week_of"]
