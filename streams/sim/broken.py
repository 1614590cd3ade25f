"""Deliberately broken messages, as a faulty upstream system would send them.

They show dead-lettering at work: truncated bytes, a missing field, a negative amount or an
unknown kind, each of which the consumer must refuse. They come from their own random stream,
so adding them leaves the valid traffic unchanged.
"""

from __future__ import annotations

import json
import random
from datetime import datetime


def broken_value(rng: random.Random, event_id: str, customer_id: str, account_id: str, at: datetime) -> bytes:
    """A card payment's raw bytes, broken in one of four ways picked by ``rng``."""
    body: dict[str, object] = {
        "event_id": event_id,
        "customer_id": customer_id,
        "occurred_at": at.isoformat().replace("+00:00", "Z"),
        "type": "transaction",
        "account_id": account_id,
        "kind": "card_payment",
        "amount": f"{rng.uniform(1, 200):.2f}",
        "currency": "EUR",
        "channel": "pos",
        "merchant_category": "5411",
    }
    flavour = rng.randrange(4)
    if flavour == 0:
        return json.dumps(body).encode()[: rng.randint(10, 60)] + b"\x00<truncated>"
    if flavour == 1:
        del body[rng.choice(("amount", "account_id", "currency", "kind", "occurred_at"))]
    elif flavour == 2:
        body["amount"] = f"-{body['amount']}"
    else:
        body["kind"] = rng.choice(("crypto_airdrop", "chargeback", "CARD_PAYMENT"))
    return json.dumps(body, separators=(",", ":")).encode()
