"""Simulated customers answering offers in ``signalbank dev``, so the closed loop can be watched.

The simulator's traffic is generated ahead of time and cannot react to what the worker decides;
this responder reads the offers the worker sends and answers a share of them with an
``offer_accepted`` or ``offer_declined`` interaction, a few hours after the offer (event time).
Accepted products become holdings, declines start the decline cool-off, and
``signalbank_offer_responses_total`` shows the conversion. The answer to an offer depends only on
its id, so a rerun answers the same offers the same way.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from kafka import KafkaProducer

from schemas.catalog import INTERACTIONS, OFFERS

#: Offer channels that are not places where a customer acts map to the app.
_CHANNELS = {"email": "web", "sms": "mobile", "push": "mobile"}


class OfferResponder:
    """Answers ``accept`` of the offers with acceptance and ``decline`` with a decline."""

    def __init__(self, bootstrap: str, accept: float = 0.25, decline: float = 0.25) -> None:
        self._producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        self._accept, self._decline = accept, decline
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def __call__(self, topic: str, offer: dict[str, Any]) -> None:
        if topic != OFFERS or self._closed.is_set():
            return
        draw = int.from_bytes(hashlib.sha256(offer["offer_event_id"].encode()).digest()[:4], "big") / 2**32
        if draw < self._accept:
            kind = "offer_accepted"
        elif draw < self._accept + self._decline:
            kind = "offer_declined"
        else:
            return
        answered = datetime.fromisoformat(offer["occurred_at"]) + timedelta(hours=3)
        body = {
            "event_id": f"answer-{offer['offer_event_id']}",
            "customer_id": offer["customer_id"],
            "occurred_at": answered.isoformat(),
            "kind": kind,
            "channel": _CHANNELS.get(offer["channel"], offer["channel"]),
            "product": offer["product"],
            "reference": offer["offer_event_id"],
        }
        with self._lock:
            if self._closed.is_set():
                return
            self._producer.send(
                INTERACTIONS, key=offer["customer_id"].encode(), value=json.dumps(body).encode()
            )
            self.counts[kind] += 1

    def close(self) -> None:
        """Stop answering; every answer sent so far is acknowledged by the broker when this returns."""
        with self._lock:
            self._closed.set()
            self._producer.flush(timeout=10)
        self._producer.close(timeout=10)
