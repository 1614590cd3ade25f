"""Redis key names and what they hold: one place, hash-tagged by customer for Redis Cluster."""

from __future__ import annotations

import zlib

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS


def profile_key(customer_id: str) -> str:
    """The one string holding a customer's profile (sinks/redis/profile_state.py says its layout)."""
    return f"sb:{{{customer_id}}}:p"


#: SCAN pattern of every profile key, and where the customer id sits in one.
PROFILE_PATTERN = "sb:{*}:p"


def customer_of_profile_key(key: str) -> str:
    """The customer id of a ``profile_key``."""
    return key[len("sb:{") : -len("}:p")]


def customer_keys(customer_id: str) -> tuple[str, str, str]:
    """State hash, day buckets and dedupe ring of the earlier layout (converted on first use)."""
    tag = f"sb:{{{customer_id}}}"
    return f"{tag}:state", f"{tag}:days", f"{tag}:seen"


def cooldown_key(customer_id: str) -> str:
    """Hash of cooldowns (rule or offer id -> until|output id) of one customer."""
    return f"sb:{{{customer_id}}}:cooldown"


def offer_log_key(customer_id: str) -> str:
    """Hash of the offers made to one customer (offer event id -> when, what, where, response)."""
    return f"sb:{{{customer_id}}}:offers"


#: Event ids kept per customer against producer repeats (an upstream system sending an event
#: twice): a repeat of any of the customer's last 64 events changes nothing (weeks of a typical
#: customer's events; the end-to-end story repeats one from about 50 events back). Redelivery by
#: Kafka does not depend on it: every event the consumer group has not committed stays
#: recognisable, however many (see sinks/redis/profile_state.py). It was 256 when it also had to
#: cover redelivery (the crash test failed with 64); 64 six-byte hashes take 384 bytes, about a
#: third of a profile. Raise it (SIGNALBANK_DEDUPE_CAPACITY) if producers repeat events from further
#: back.
DEDUPE_CAPACITY = 64


def timeline_key(customer_id: str) -> str:
    """String of one customer's recent history (sinks/redis/timeline.py): the last events, an empty
    line, the last outputs about them, each newest first."""
    return f"sb:{{{customer_id}}}:timeline"


#: Code of each input topic in the ring's entries (one byte). Stored in Redis: never renumber.
TOPIC_CODES: dict[str, int] = {TRANSACTIONS: 0, INTERACTIONS: 1, CUSTOMERS: 2}


def kafka_position(topic: str, partition: int, offset: int) -> str:
    """Where an event was read, as the ring stores it; "" for a topic without a code."""
    code = TOPIC_CODES.get(topic)
    return "" if code is None else f"{code}:{partition}:{offset}"


#: Field of the customer's cooldown hash holding their tier state (``rules/evaluate/tiers.py``), set
#: by claim.lua's compare-and-set. Cannot collide with a cooldown slot: those are ``alert`` and
#: ``rule:<id>...`` (offers keep their own log, ``offer_log_key``).
TIER_FIELD = "tier"

#: Field of the customer's cooldown hash holding their current tag set and the last tag changes
#: (``sinks/redis/claims.py`` ``TagSet``), written by claim.lua's mode "tags". Next to the tier for
#: the same reason: one hash, one slot, read and changed in the claim call.
TAGS_FIELD = "tags"

#: Silence-check schedule shards. The schedule is a sorted set per shard (member = customer id,
#: score = next check time, epoch ms), so in a Redis Cluster the shards spread over the masters and
#: none holds every customer. A customer's shard is a stable hash of their id: NEVER change this
#: number without a migration (customers would be looked for in the wrong shard; the ones left in
#: their old shard would still be taken, but a check moved later in the new shard would not hide
#: the old one).
SCHEDULE_SHARDS = 64

#: The one sorted set of every silence check, before the schedule was sharded. Whatever is still in
#: it is moved into the shards by ``Schedule.migrate`` (the timer's first round after an upgrade).
LEGACY_SCHEDULE_KEY = "sb:schedule"


def schedule_shard(customer_id: str) -> int:
    """Shard of ``customer_id``'s silence check: CRC-32 of the id, modulo ``SCHEDULE_SHARDS``."""
    return zlib.crc32(customer_id.encode("utf-8")) % SCHEDULE_SHARDS


def schedule_shard_key(shard: int) -> str:
    """Sorted set of one schedule shard, hash-tagged by the shard so shards land on many slots."""
    return f"sb:schedule:{{s{shard}}}"


def schedule_key(customer_id: str) -> str:
    """The schedule shard holding ``customer_id``'s next silence check."""
    return schedule_shard_key(schedule_shard(customer_id))
