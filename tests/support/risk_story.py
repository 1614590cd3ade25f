"""A scripted account takeover with known risk signals, shared by the pipeline and end-to-end tests.

VICTIM banks from one phone in Germany for three weeks: logins, card payments in shops, the rent
to the landlord. Then someone logs in from a phone never seen before and, ten minutes later, sends
4,500 to a payee VICTIM never paid: one risk signal, two reasons (the new device before a large
transfer to a new payee, and an amount far above VICTIM's usual transfers).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS
from tests.support.story import Message

BASE = datetime(2026, 3, 2, 8, tzinfo=UTC)
CUSTOMER = "VICTIM"
#: The event that triggers the risk signal, and the rules that hold for it, strongest first.
TAKEOVER_EVENT = f"{CUSTOMER}-takeover"
EXPECTED_RULES = ["risk.new_device_large_transfer", "risk.amount_far_from_usual"]
#: 100 x (1 - (1 - 0.75) x (1 - 0.50)): the two rules' scores as independent evidence.
EXPECTED_SCORE = 88


def _at(day: int, minutes: int = 0) -> str:
    return (BASE + timedelta(days=day, minutes=minutes)).isoformat()


def _login(n: str, day: int, minutes: int, device: str) -> Message:
    return INTERACTIONS, {
        "event_id": f"{CUSTOMER}-{n}",
        "customer_id": CUSTOMER,
        "occurred_at": _at(day, minutes),
        "kind": "login",
        "channel": "mobile",
        "device_id": device,
        "ip_country": "DE",
        "auth_method": "biometric" if device == "phone-1" else "password",
        "auth_outcome": "success",
    }


def _payment(n: str, day: int, minutes: int, kind: str, amount: str, **where: Any) -> Message:
    return TRANSACTIONS, {
        "event_id": f"{CUSTOMER}-{n}",
        "customer_id": CUSTOMER,
        "occurred_at": _at(day, minutes),
        "account_id": f"{CUSTOMER}-A",
        "kind": kind,
        "amount": amount,
        "currency": "EUR",
        **where,
    }


def risk_story() -> list[Message]:
    """VICTIM's three weeks and the takeover, in event-time order."""
    messages: list[Message] = [
        (
            CUSTOMERS,
            {
                "event_id": f"{CUSTOMER}-m",
                "customer_id": CUSTOMER,
                "occurred_at": _at(0),
                "birth_date": "1979-09-14",
                "opened_at": "2012-02-01T00:00:00+00:00",
                "marketing_consent": True,
                "kyc_risk": "low",
            },
        )
    ]
    for day in range(0, 21, 3):
        messages.append(_login(f"login{day}", day, 0, "phone-1"))
        messages.append(
            _payment(f"card{day}", day, 60, "card_payment", f"{30 + day}.00", channel="pos",
                     merchant_country="DE", latitude=52.52, longitude=13.40)
        )  # fmt: skip
    for week in range(6):  # the rent and a transfer to the landlord's garage, from the phone
        messages.append(
            _payment(f"rent{week}", 1 + 3 * week, 90, "transfer_out", f"{790 + 5 * week}.00",
                     channel="mobile", device_id="phone-1", ip_country="DE", payee_id="landlord")
        )  # fmt: skip
    messages.append(_login("takeover-login", 22, 0, "phone-x"))
    messages.append(
        _payment("takeover", 22, 10, "transfer_out", "4500.00", channel="mobile", device_id="phone-x",
                 ip_country="DE", payee_id="mule-7")
    )  # fmt: skip
    return sorted(messages, key=lambda message: str(message[1]["occurred_at"]))
