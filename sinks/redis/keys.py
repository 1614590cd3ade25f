"""Redis key names and what they hold: one place, hash-tagged by customer for Redis Cluster."""

from __future__ import annotations

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS


def customer_keys(customer_id: str) -> tuple[str, str, str]:
    """State hash, day buckets and dedupe ring of one customer, hash-tagged for Redis Cluster."""
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
#: customer's events). Redelivery by Kafka does not depend on it: every event the consumer group
#: has not committed stays recognisable, however many (see sinks/lua/profile_update.lua). It was
#: 256 when it also had to cover redelivery (the crash test failed with 64); 64 six-byte hashes
#: take 384 bytes. Raise it (SIGNALBANK_DEDUPE_CAPACITY) if producers repeat events from further back.
DEDUPE_CAPACITY = 64

#: Code of each input topic in the ring's entries (one byte). Stored in Redis: never renumber.
TOPIC_CODES: dict[str, int] = {TRANSACTIONS: 0, INTERACTIONS: 1, CUSTOMERS: 2}


def kafka_position(topic: str, partition: int, offset: int) -> str:
    """Where an event was read, as the ring stores it; "" for a topic without a code."""
    code = TOPIC_CODES.get(topic)
    return "" if code is None else f"{code}:{partition}:{offset}"


#: Sorted set of silence checks: member = customer id, score = next check time (epoch ms).
#: One global key (due customers must be found by score across all of them): in Redis Cluster it
#: lives on one node, so the schedule scripts touch only this key. Shard it (``sb:schedule:<n>``
#: by a hash of the id) if that node ever becomes the bottleneck.
SCHEDULE_KEY = "sb:schedule"
