"""Each customer's own behaviour for the risk rules: what they use, how much they move, how fast.

Fraud is behaviour unusual for *this* customer, so the profile keeps, bounded and O(1) per event:
the devices, countries, channels and payees they used (``TABLE_SIZE`` each, with a count and the
day of last use; the least recently used is forgotten first), the running mean and spread of their
amounts per customer-initiated transaction kind (Welford's update, in cents; after ``MAX_WEIGHT``
amounts it weighs the newest by 1/``MAX_WEIGHT``, so it follows a customer whose habits change),
the payments out and failed logins of the last hour (exact up to ``RING`` of each: beyond that the
oldest within the hour are forgotten, so counts read ``RING`` and sums the newest ``RING``), the
latest location, and when a device or country was last new.

The facts of an event relative to the customer *before* it (is the device new, how far is the
amount from their usual, how far from their last location) are computed when the update is applied
(the state then still holds the history without the event) and returned to the caller (``apply``),
which hands them to the event context; they are no field of the profile. The behaviour also keeps
the facts of the customer's last ``FACTS_KEPT`` events (with a hash of the event id), so that an
event Kafka delivers again after a crash between the profile write and the output claims reads the
same facts (``recall``) and re-emits the same risk signal; an older repeat reads neutral facts.

Behaviour depends on the order events arrive in (which device was first, what was least recently
used), unlike the rest of the profile (docs/rules.md, "Behaviour").

Ids are kept as 3-byte hashes (sha1), never in clear: a new device matches a known one by chance
about once in 2 million. Pure functions; stored as MessagePack in one profile field
(sinks/redis/profile_state.py stores it as bytes).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack

from schemas.common import Channel
from schemas.inputs import INFLOW_KINDS, TransactionKind

#: The profile state field of the behaviour.
BEHAVIOUR_FIELD = "bv"
#: Events whose facts the behaviour keeps for their redelivery (``recall``).
FACTS_KEPT = 4
#: The state operation carrying an event's observation (schemas/profile/delta.py).
BEHAVIOUR_OP = "bh"
#: Entries per table (devices, countries, channels, payees).
TABLE_SIZE = 8
#: Payments out and failed logins kept for the sub-day velocity (within the last hour).
RING = 32
HOUR_S = 3600
TEN_MINUTES_S = 600
#: Amounts a kind's mean and spread weigh fully before the newest counts for 1/MAX_WEIGHT.
MAX_WEIGHT = 200
#: Amounts of a kind seen before a z-score is given (else 0).
MIN_AMOUNTS = 5
#: How long a risk indicator keeps the customer's risk case open (profile.risk_open).
RISK_HOLD_S = 72 * HOUR_S
#: "Never" for the hours-since fields: larger than any window a rule would compare with.
NEVER_HOURS = 99_999
_COUNT_CAP = 65_535
_DAY_S = 86_400
_KINDS = tuple(TransactionKind)
_CHANNELS = tuple(Channel)
#: Kinds whose amounts are the customer's own decision (salary, fees, interest are not).
_OWN_KINDS = frozenset(TransactionKind) - {
    TransactionKind.SALARY_CREDIT,
    TransactionKind.FEE,
    TransactionKind.INTEREST,
}
#: Payments out the velocity counts: money the customer sends away.
_OUT_KINDS = _OWN_KINDS - INFLOW_KINDS

#: Approximate centroids (latitude, longitude) of countries, for a location without coordinates.
CENTROIDS: dict[str, tuple[float, float]] = {
    "AT": (47.6, 14.1), "BE": (50.6, 4.6), "BG": (42.7, 25.5), "CH": (46.8, 8.2), "CY": (35.0, 33.2),
    "CZ": (49.8, 15.5), "DE": (51.2, 10.4), "DK": (56.0, 10.0), "EE": (58.7, 25.0), "ES": (40.2, -3.6),
    "FI": (64.5, 26.0), "FR": (46.6, 2.4), "GB": (54.0, -2.5), "GR": (39.1, 22.0), "HR": (45.1, 15.2),
    "HU": (47.2, 19.4), "IE": (53.2, -8.2), "IS": (64.9, -18.6), "IT": (42.8, 12.6), "LT": (55.2, 23.9),
    "LU": (49.8, 6.1), "LV": (56.9, 24.6), "MT": (35.9, 14.4), "NL": (52.2, 5.3), "NO": (64.5, 12.0),
    "PL": (52.1, 19.4), "PT": (39.6, -8.0), "RO": (45.9, 24.9), "RS": (44.0, 20.8), "SE": (62.0, 15.0),
    "SI": (46.1, 14.8), "SK": (48.7, 19.7), "TR": (39.0, 35.2), "UA": (49.0, 31.4), "RU": (61.5, 96.0),
    "US": (39.8, -98.6), "CA": (56.1, -106.3), "MX": (23.6, -102.6), "BR": (-10.8, -52.9),
    "AR": (-34.0, -64.0), "CL": (-35.7, -71.5), "CO": (4.1, -72.9), "PE": (-9.2, -75.0),
    "CN": (35.9, 104.2), "JP": (36.2, 138.3), "KR": (36.5, 127.9), "IN": (22.4, 79.0), "PK": (30.4, 69.3),
    "TH": (15.9, 101.0), "VN": (16.1, 106.3), "SG": (1.35, 103.8), "MY": (4.2, 102.0), "ID": (-2.5, 118.0),
    "PH": (12.9, 121.8), "AU": (-25.7, 134.5), "NZ": (-41.5, 172.8), "AE": (23.9, 54.3),
    "SA": (24.0, 45.0), "IL": (31.4, 35.0), "EG": (26.5, 30.0), "MA": (31.8, -7.1), "NG": (9.1, 8.7),
    "ZA": (-29.0, 25.1), "KE": (0.2, 37.9), "TN": (34.0, 9.5), "GE": (42.2, 43.5), "AL": (41.1, 20.0),
}  # fmt: skip


def id_key(value: str) -> int:
    """A 3-byte key of an identifier: tables keep no id in clear."""
    return int.from_bytes(hashlib.sha1(value.encode(), usedforsecurity=False).digest()[:3], "big")


def country_key(code: str) -> int:
    return (ord(code[0]) - 65) * 26 + ord(code[1]) - 65


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Observation:
    """What one event tells about the customer's behaviour (built by delta.py, applied by the state)."""

    kind: int = -1  # index of the transaction kind, -1: not a transaction
    cents: int = 0
    channel: int = -1
    device: int = -1  # id_key of the device, -1: none
    country: int = -1  # country_key, -1: none
    payee: int = -1
    lat_e3: int | None = None  # latitude in thousandths of a degree (about 100 m)
    lon_e3: int | None = None
    exact: bool = False  # the location came from coordinates, not a country centroid
    failed_login: bool = False

    def text(self) -> str:
        lat = "" if self.lat_e3 is None else str(self.lat_e3)
        lon = "" if self.lon_e3 is None else str(self.lon_e3)
        values = (self.kind, self.cents, self.channel, self.device, self.country, self.payee)
        return ",".join((*map(str, values), lat, lon, str(int(self.exact)), str(int(self.failed_login))))

    @classmethod
    def parse(cls, text: str) -> Observation:
        kind, cents, channel, device, country, payee, lat, lon, exact, failed = text.split(",")
        return cls(
            int(kind),
            int(cents),
            int(channel),
            int(device),
            int(country),
            int(payee),
            int(lat) if lat else None,
            int(lon) if lon else None,
            exact == "1",
            failed == "1",
        )


def observe(
    kind: TransactionKind | None,
    cents: int,
    channel: Channel,
    device_id: str | None,
    country: str | None,
    payee_id: str | None,
    coordinates: tuple[float, float] | None,
    failed_login: bool,
) -> Observation:
    """The observation of one event; the location is its coordinates, else its country's centroid."""
    lat_e3 = lon_e3 = None
    exact = coordinates is not None
    point = coordinates if coordinates is not None else CENTROIDS.get(country or "")
    if point is not None:
        lat_e3, lon_e3 = round(point[0] * 1000), round(point[1] * 1000)
    return Observation(
        _KINDS.index(kind) if kind is not None else -1,
        cents,
        _CHANNELS.index(channel),
        id_key(device_id) if device_id else -1,
        country_key(country) if country else -1,
        id_key(payee_id) if payee_id else -1,
        lat_e3,
        lon_e3,
        exact,
        failed_login,
    )


Table = dict[int, list[int]]  # key -> [count, day of last use]


@dataclass(slots=True)
class Behaviour:
    """The stored behaviour of one customer (``parse`` / ``dump``); times in seconds."""

    now_s: int = 0  # the newest event time seen
    devices: Table = field(default_factory=dict)
    countries: Table = field(default_factory=dict)
    channels: Table = field(default_factory=dict)
    payees: Table = field(default_factory=dict)
    amounts: dict[int, list[int]] = field(default_factory=dict)  # kind -> [n, mean cents, sd cents]
    recent: list[tuple[int, int]] = field(default_factory=list)  # payments out: (time s, cents), sorted
    fails: list[int] = field(default_factory=list)  # failed logins: time s, sorted
    location: tuple[int, int, int, bool, int] | None = None  # (time s, lat e3, lon e3, exact, country)
    new_device_s: int | None = None
    new_country_s: int | None = None
    risk_until_s: int | None = None
    facts: list[int] = field(default_factory=list)  # of the last FACTS_KEPT events, oldest first, flat


@dataclass(frozen=True, slots=True)
class Facts:
    """One event relative to the customer's behaviour before it."""

    event: int  # id_key of the event id
    device_new: bool = False
    country_new: bool = False
    payee_new: bool = False
    channel_new: bool = False
    z100: int = 0  # amount z-score x 100 (0 without MIN_AMOUNTS of its kind before)
    usual_cents: int = -1  # the customer's mean amount of this kind before, -1 when none
    km: int = -1  # from the last location, -1 when either is unknown
    minutes: int = -1  # since the last location
    exact: bool = False  # both locations from coordinates

    def context(self) -> dict[str, Any]:
        """The event fields these facts give the rules (``NEUTRAL_FACTS`` names the same)."""
        return {
            "device_new": self.device_new,
            "country_new": self.country_new,
            "payee_new": self.payee_new,
            "channel_new": self.channel_new,
            "amount_zscore": self.z100 / 100,
            "amount_usual": self.usual_cents / 100 if self.usual_cents >= 0 else -1.0,
            "km_from_last": float(self.km),
            "hours_since_last_location": self.minutes / 60 if self.minutes >= 0 else -1.0,
            "speed_kmh": speed_kmh(self.km, self.minutes),
            "location_exact": self.exact,
        }


def _bin_keys(table: Table, base_day: int) -> list[Any]:
    """A table as its keys' bytes, then count and age in days of each."""
    if not table:
        return []
    keys = sorted(table)
    flat: list[Any] = [b"".join([k.to_bytes(3, "big") for k in keys])]
    for key in keys:
        count, day = table[key]
        flat.append(count)
        flat.append(base_day - day)
    return flat


def _unbin_keys(flat: list[Any], base_day: int) -> Table:
    if not flat:
        return {}
    raw: bytes = flat[0]
    keys = [int.from_bytes(raw[i : i + 3], "big") for i in range(0, len(raw), 3)]
    return {k: [flat[1 + 2 * i], base_day - flat[2 + 2 * i]] for i, k in enumerate(keys)}


def dump(b: Behaviour) -> str:
    """The stored form: MessagePack bytes as a latin-1 string (profile fields are strings)."""
    base_day = b.now_s // _DAY_S
    tables = [_bin_keys(table, base_day) for table in (b.devices, b.countries, b.channels, b.payees)]
    amounts = [v for k in sorted(b.amounts) for v in (k, *b.amounts[k])]
    recent = [v for ts, cents in b.recent for v in (b.now_s - ts, cents)]
    fails = [b.now_s - ts for ts in b.fails]
    loc = (
        []
        if b.location is None
        else [b.now_s - b.location[0], *b.location[1:3], int(b.location[3]), b.location[4]]
    )
    marks = [None if s is None else s - b.now_s for s in (b.new_device_s, b.new_country_s, b.risk_until_s)]
    parts: list[Any] = [
        b.now_s,
        *tables,
        amounts,
        recent,
        fails,
        loc,
        marks if any(m is not None for m in marks) else [],
        b.facts,
    ]
    while parts and parts[-1] == []:
        parts.pop()
    return bytes(msgpack.packb(parts, use_bin_type=True)).decode("latin-1")


def parse(raw: str) -> Behaviour:
    """The behaviour of a stored field ("" or absent: none yet)."""
    if not raw:
        return Behaviour()
    parts = msgpack.unpackb(raw.encode("latin-1"), raw=False)
    parts += [[]] * (11 - len(parts))
    now_s = parts[0]
    base_day = now_s // _DAY_S
    amounts = {parts[5][i]: list(parts[5][i + 1 : i + 4]) for i in range(0, len(parts[5]), 4)}
    recent = [(now_s - parts[6][i], parts[6][i + 1]) for i in range(0, len(parts[6]), 2)]
    loc = parts[8]
    marks = parts[9] or [None, None, None]
    device_s, country_s, risk_s = (None if m is None else now_s + m for m in marks)
    devices, countries, channels, payees = (_unbin_keys(parts[i], base_day) for i in range(1, 5))
    return Behaviour(
        now_s,
        devices,
        countries,
        channels,
        payees,
        amounts,
        recent,
        [now_s - age for age in parts[7]],
        (now_s - loc[0], loc[1], loc[2], bool(loc[3]), loc[4] if len(loc) > 4 else -1) if loc else None,
        device_s,
        country_s,
        risk_s,
        list(parts[10]),
    )


def _fact_values(f: Facts) -> tuple[int, ...]:
    flags = f.device_new | f.country_new << 1 | f.payee_new << 2 | f.channel_new << 3 | f.exact << 4
    return (f.event, flags, f.z100, f.usual_cents, f.km, f.minutes)


_FACT_WIDTH = 6  # values of one event's facts in the stored ring (``_fact_values``)


def _facts_of(values: list[int]) -> Facts:
    event, flags, z100, usual, km, minutes = values
    bits = [bool(flags >> i & 1) for i in range(5)]
    return Facts(event, bits[0], bits[1], bits[2], bits[3], z100, usual, km, minutes, bits[4])


def _use(table: Table, key: int, day: int) -> bool:
    """Count a use of ``key`` on ``day``; True when it was not in the table (then maybe one goes)."""
    entry = table.get(key)
    if entry is not None:
        entry[0] = min(_COUNT_CAP, entry[0] + 1)
        entry[1] = max(entry[1], day)
        return False
    table[key] = [1, day]
    if len(table) > TABLE_SIZE:  # least recently used first, then the least used, then the key
        del table[min(table, key=lambda k: (table[k][1], table[k][0], k))]
    return True


def _add_amount(amounts: dict[int, list[int]], kind: int, cents: int) -> tuple[int, int]:
    """Welford's update of the kind's mean and spread; returns (z-score x 100, mean) before it."""
    entry = amounts.get(kind)
    if entry is None:
        amounts[kind] = [1, cents, 0]
        return 0, -1
    n, mean, sd = entry
    floor = max(sd, mean // 10, 100)  # a customer who always pays the same still has some spread
    z100 = round((cents - mean) * 100 / floor) if n >= MIN_AMOUNTS else 0
    weight = 1 / min(n + 1, MAX_WEIGHT)
    delta = cents - mean
    new_mean = mean + delta * weight
    variance = (1 - weight) * (sd * sd + weight * delta * delta)
    entry[:] = [min(_COUNT_CAP, n + 1), round(new_mean), round(math.sqrt(variance))]
    return z100, mean


def _insert(ring: list[Any], item: Any, oldest: int) -> None:
    """Keep ``item`` in the sorted ``ring`` (entries after ``oldest`` only, at most ``RING``)."""
    ring.append(item)
    ring.sort()
    while ring and (ring[0][0] if isinstance(ring[0], tuple) else ring[0]) <= oldest:
        del ring[0]
    if len(ring) > RING:
        del ring[: len(ring) - RING]


def apply(fields: dict[str, str], text: str, ts_ms: int, event_id: str) -> Facts:
    """Apply one event's observation (``Observation.text``) to the behaviour in ``fields``; the
    event's facts relative to the behaviour before it."""
    obs = Observation.parse(text)
    b = _take(fields.get(BEHAVIOUR_FIELD, ""))
    ts = ts_ms // 1000
    day = ts // _DAY_S
    b.now_s = max(b.now_s, ts)
    known = (bool(b.devices), bool(b.countries), bool(b.payees), bool(b.channels))
    device_new = obs.device >= 0 and _use(b.devices, obs.device, day) and known[0]
    country_new = obs.country >= 0 and _use(b.countries, obs.country, day) and known[1]
    payee_new = obs.payee >= 0 and _use(b.payees, obs.payee, day) and known[2]
    channel_new = obs.channel >= 0 and _use(b.channels, obs.channel, day) and known[3]
    if device_new:
        b.new_device_s = max(b.new_device_s or 0, ts)
    if country_new:
        b.new_country_s = max(b.new_country_s or 0, ts)
    z100, usual = 0, -1
    if obs.kind >= 0 and _KINDS[obs.kind] in _OWN_KINDS:
        z100, usual = _add_amount(b.amounts, obs.kind, obs.cents)
        if _KINDS[obs.kind] in _OUT_KINDS:
            _insert(b.recent, (ts, obs.cents), b.now_s - HOUR_S)
    b.recent = [entry for entry in b.recent if entry[0] > b.now_s - HOUR_S]
    if obs.failed_login:
        _insert(b.fails, ts, b.now_s - HOUR_S)
    b.fails = [at for at in b.fails if at > b.now_s - HOUR_S]
    km = minutes = -1
    exact = False
    if obs.lat_e3 is not None and obs.lon_e3 is not None:
        here = (obs.lat_e3 / 1000, obs.lon_e3 / 1000)
        if b.location is not None:
            at, lat, lon, was_exact, where = b.location
            exact = was_exact and obs.exact
            # a country's centroid says only "somewhere in it": no distance within the same country
            inside = not exact and where >= 0 and where == obs.country
            km = 0 if inside else round(haversine_km(here, (lat / 1000, lon / 1000)))
            minutes = abs(ts - at) // 60
        if b.location is None or ts >= b.location[0]:
            b.location = (ts, obs.lat_e3, obs.lon_e3, obs.exact, obs.country)
    facts = Facts(
        id_key(event_id), device_new, country_new, payee_new, channel_new, z100, usual, km, minutes, exact
    )
    if _indicates_risk(b, obs, facts, ts):
        b.risk_until_s = max(b.risk_until_s or 0, ts + RISK_HOLD_S)
    b.facts = [*b.facts[-(FACTS_KEPT - 1) * _FACT_WIDTH :], *_fact_values(facts)]
    raw = fields[BEHAVIOUR_FIELD] = dump(b)
    _keep(raw, b)
    return facts


def recall(fields: Mapping[str, str], event_id: str) -> Facts | None:
    """The facts an event had when it was applied, if it is one of the last ``FACTS_KEPT`` (for a
    repeat of it: the state already holds the event, so its facts cannot be computed again)."""
    raw = fields.get(BEHAVIOUR_FIELD, "")
    if not raw:
        return None
    key, kept = id_key(event_id), _read(raw).facts
    for start in range(len(kept) - _FACT_WIDTH, -1, -_FACT_WIDTH):
        if kept[start] == key:
            return _facts_of(kept[start : start + _FACT_WIDTH])
    return None


#: Behaviours parsed lately, by their stored string (most events of a customer parse the string the
#: previous one dumped, and the profile view reads the one its event dumped): parsing is most of an
#: event's cost. An entry always equals ``parse`` of its key; ``apply`` takes its entry out before
#: changing it. Oldest first, at most ``_PARSED_MAX``.
_PARSED: dict[str, Behaviour] = {}
_PARSED_MAX = 4096


def _read(raw: str) -> Behaviour:
    """The behaviour of ``raw`` to read, not to change."""
    found = _PARSED.get(raw)
    if found is None:
        found = parse(raw)
        _keep(raw, found)
    return found


def _take(raw: str) -> Behaviour:
    """The behaviour of ``raw`` to change: out of the memo, or parsed afresh."""
    found = _PARSED.pop(raw, None)
    return found if found is not None else parse(raw)


def _keep(raw: str, b: Behaviour) -> None:
    _PARSED[raw] = b
    if len(_PARSED) > _PARSED_MAX:
        del _PARSED[next(iter(_PARSED))]


#: A payment out at least this large (cents) from a new device, country or to a new payee opens a case.
_RISK_AMOUNT_CENTS = 100_000
#: A payment out at least this large (cents) from a device and a country both new opens a case.
_BOTH_NEW_CENTS = 10_000
_FAILED_LOGINS_BURST = 5


def speed_kmh(km: int, minutes: int) -> float:
    """Speed needed to travel ``km`` in ``minutes`` (at least one minute), -1 when unknown."""
    if km < 0 or minutes < 0:
        return -1.0
    return round(km * 60 / max(minutes, 1), 1)


def _indicates_risk(b: Behaviour, obs: Observation, facts: Facts, ts: int) -> bool:
    """The patterns of the shipped risk rules (rules/risk.yaml), as the profile's own mark of an open
    risk case (the risk signals themselves are claims the profile does not see): impossible travel,
    a burst of failed logins, a payment out from a device and a country both new within a day, a
    large one far from the usual, or a large one to a new payee or far above the usual within a day
    of a new device or country. A new payee alone, a new phone alone or a trip abroad is none."""
    if facts.km >= (300 if facts.exact else 1000) and speed_kmh(facts.km, facts.minutes) >= 900:
        return True
    if obs.failed_login and len(b.fails) >= _FAILED_LOGINS_BURST:
        return True
    if obs.kind < 0 or _KINDS[obs.kind] not in _OUT_KINDS:
        return False
    device = b.new_device_s is not None and ts - b.new_device_s < _DAY_S
    country = b.new_country_s is not None and ts - b.new_country_s < _DAY_S
    if device and country and obs.cents >= _BOTH_NEW_CENTS:
        return True
    if obs.cents < _RISK_AMOUNT_CENTS:
        return False
    return facts.z100 >= 400 or ((device or country) and (facts.payee_new or facts.z100 >= 300))


def _hours_since(now_s: int, at: int | None) -> int:
    return NEVER_HOURS if at is None else max(0, (now_s - at) // HOUR_S)


def add_behaviour(profile: dict[str, Any], state: Mapping[str, str], now_ms: int) -> None:
    """The profile-side behaviour fields as of ``now_ms`` (see the field catalogue)."""
    b = _read(state.get(BEHAVIOUR_FIELD, ""))
    now = now_ms // 1000
    profile["devices_count"] = len(b.devices)
    profile["countries_count"] = len(b.countries)
    profile["channels_count"] = len(b.channels)
    profile["payees_count"] = len(b.payees)
    for name, width in (("10m", TEN_MINUTES_S), ("1h", HOUR_S)):
        window = [cents for at, cents in b.recent if now - width < at <= now]
        profile[f"tx_count_{name}"] = len(window)
        profile[f"tx_sum_{name}"] = sum(window) / 100
        profile[f"failed_logins_{name}"] = sum(1 for at in b.fails if now - width < at <= now)
    profile["hours_since_new_device"] = _hours_since(now, b.new_device_s)
    profile["hours_since_new_country"] = _hours_since(now, b.new_country_s)
    until = b.risk_until_s
    profile["risk_open"] = until is not None and now < until
    profile["risk_open_hours"] = -(-(until - now) // HOUR_S) if until is not None and now < until else 0


#: Neutral values of the event-side facts (no history, a master-data change, a silence check, or a
#: repeat of an event older than the last ``FACTS_KEPT``).
NEUTRAL_FACTS: dict[str, Any] = Facts(0).context()
