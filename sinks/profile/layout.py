"""Shape of the stored profile: the metrics kept per day bucket and the windows read from them.

Money is kept in integer cents so sums are exact inside Redis' Lua (doubles are exact to 2**53).
"""

from __future__ import annotations

from enum import IntEnum

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS

#: Windows (days) the rules can read; the longest is also the retention of day buckets.
WINDOWS: tuple[int, ...] = (1, 7, 30, 90)


class Metric(IntEnum):
    """Position of each metric inside a day bucket (stored as comma-separated integers)."""

    TXN_COUNT = 0
    INFLOW = 1
    OUTFLOW = 2
    OUTFLOW_OTHER_BANK = 3
    SALARY_COUNT = 4
    SALARY_AMOUNT = 5
    LOGIN_COUNT = 6
    COMPLAINT_COUNT = 7
    BALANCE_SUM = 8
    BALANCE_N = 9
    CARD_SPEND = 10
    INTERACTION_COUNT = 11
    LOAN_REPAYMENT = 12
    FEES = 13
    ACTIVE = 14  # customer activity events (not salary, fees, interest): > 0 makes an active day
    OFFERS_ACCEPTED = 15  # offer_accepted interactions (the closed loop of next-best offers)
    OFFERS_DECLINED = 16  # offer_declined interactions


METRIC_COUNT = len(Metric)
#: Metrics that hold cents and are shown to rules as currency units.
MONEY_METRICS = frozenset(
    {
        Metric.INFLOW,
        Metric.OUTFLOW,
        Metric.OUTFLOW_OTHER_BANK,
        Metric.SALARY_AMOUNT,
        Metric.BALANCE_SUM,
        Metric.CARD_SPEND,
        Metric.LOAN_REPAYMENT,
        Metric.FEES,
    }
)


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
