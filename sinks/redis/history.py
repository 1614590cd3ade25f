"""Reading what the claims keep about one customer for display: tags, timeline, offer responses.

One pipelined round trip (the keys share the customer's hash tag, so on a Redis Cluster it goes to
one node). Only for reads (profile pages, ``signalbank profile``); the worker writes these through
claim.lua.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sinks.redis.claims import decode_tag_set
from sinks.redis.client import RedisClient
from sinks.redis.keys import TAGS_FIELD, cooldown_key, offer_log_key, timeline_key
from sinks.redis.timeline import TimelineEvent, TimelineOutput, decode_timeline


@dataclass(frozen=True, slots=True)
class History:
    """A customer's current tags, last events and last outputs (newest first), and how they answered
    the offers still in the offer log."""

    tags: dict[str, int] = field(default_factory=dict)  # tag -> when gained (epoch ms)
    events: tuple[TimelineEvent, ...] = ()
    outputs: tuple[TimelineOutput, ...] = ()
    responses: dict[str, str] = field(default_factory=dict)  # offer event id -> accepted | declined


def offer_responses(log: dict[str, str]) -> dict[str, str]:
    """Offer event id -> response, from the offer log's entries
    (``ts|offer|product|channel|expires|strategy|status|status_ts|status_event``, claim.lua)."""
    answered: dict[str, str] = {}
    for offer_event_id, value in log.items():
        parts = value.split("|")
        if len(parts) > 6 and parts[6]:
            answered[offer_event_id] = parts[6]
    return answered


async def read_history(client: RedisClient, customer_id: str) -> History:
    """The customer's tags, timeline and offer responses as stored now (empty for an unknown one)."""
    pipe = client.pipeline(transaction=False)
    pipe.hget(cooldown_key(customer_id), TAGS_FIELD)
    pipe.get(timeline_key(customer_id))
    pipe.hgetall(offer_log_key(customer_id))
    tags, timeline, log = await pipe.execute()
    events, outputs = decode_timeline(timeline)
    return History(decode_tag_set(tags), events, outputs, offer_responses(log or {}))
