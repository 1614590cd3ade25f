"""A scripted customer story with known outcomes, shared by the pipeline and end-to-end tests.

DRIFT is paid monthly and logs in every 3 days, then stops logging in, moves money to another bank
and his salary stops. LOYAL behaves well but gave no marketing consent. GRUMPY opens a complaint
that nobody resolves.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS

BASE = datetime(2026, 1, 5, 9, tzinfo=UTC)
Message = tuple[str, dict[str, Any]]


def at(day: int, hour: int = 0) -> str:
    return (BASE + timedelta(days=day, hours=hour)).isoformat()


def master(customer: str, consent: bool) -> Message:
    return CUSTOMERS, {
        "event_id": f"{customer}-m",
        "customer_id": customer,
        "occurred_at": at(0),
        "birth_date": "1985-04-02",
        "opened_at": "2015-06-01T00:00:00+00:00",
        "marketing_consent": consent,
        "kyc_risk": "low",
    }


def txn(
    customer: str, n: str, day: int, kind: str, amount: str, balance: str, bank: str | None = None
) -> Message:
    body = {
        "event_id": f"{customer}-{n}",
        "customer_id": customer,
        "occurred_at": at(day, 1),
        "account_id": f"{customer}-A",
        "kind": kind,
        "amount": amount,
        "currency": "EUR",
        "channel": "mobile",
        "balance_after": balance,
    }
    if bank:
        body["counterparty_bank"] = bank
    return TRANSACTIONS, body


def interaction(customer: str, n: str, day: int, kind: str, **extra: Any) -> Message:
    return INTERACTIONS, {
        "event_id": f"{customer}-{n}",
        "customer_id": customer,
        "occurred_at": at(day, 2),
        "kind": kind,
        "channel": "mobile",
        **extra,
    }


def story() -> list[Message]:
    """Messages in event-time order (per customer), each valid."""
    messages: list[tuple[str, Message]] = []

    def add(message: Message) -> None:
        messages.append((message[1]["occurred_at"], message))

    add(master("DRIFT", consent=True))
    add(master("LOYAL", consent=False))
    add(master("GRUMPY", consent=True))
    for i, day in enumerate((1, 31, 61)):
        add(txn("DRIFT", f"sal{i}", day, "salary_credit", "3000.00", f"{12000 + 1000 * i}.00"))
    for day in range(3, 61, 3):
        add(interaction("DRIFT", f"login{day}", day, "login"))
    add(txn("DRIFT", "out1", 92, "transfer_out", "6000.00", "9000.00", bank="REVOLUT"))
    # a second bank: no new payee is funded twice, so churn.funds_to_new_bank stays out of this story
    add(txn("DRIFT", "out2", 95, "transfer_out", "6000.00", "3000.00", bank="N26"))
    add(txn("DRIFT", "card", 99, "card_payment", "50.00", "2950.00"))
    add(interaction("DRIFT", "nps", 100, "survey_response", score=2))
    for i, day in enumerate((1, 31, 61, 91)):
        add(txn("LOYAL", f"sal{i}", day, "salary_credit", "2500.00", f"{4000 + 100 * i}.00"))
    for day in range(2, 100, 4):
        add(interaction("LOYAL", f"login{day}", day, "login"))
    add(interaction("GRUMPY", "cmp", 50, "complaint_opened", reference="CMP-7"))
    add(interaction("GRUMPY", "login57", 57, "login"))
    messages.sort(key=lambda item: item[0])
    return [message for _, message in messages]


def encoded(message: Message) -> bytes:
    return json.dumps(message[1]).encode()


#: What the default ruleset must conclude from the story: (trigger event, level, rule ids).
#: DRIFT-nps is critical again (low NPS joins the reasons) but not higher than DRIFT-card: no new alert.
EXPECTED_ALERTS = [
    ("DRIFT-out1", "watch", ["churn.logins_dropping"]),
    (
        "DRIFT-out2",
        "high",
        ["churn.balance_drain_other_bank", "churn.large_transfer_other_bank", "churn.logins_dropping"],
    ),
    (
        "DRIFT-card",
        "critical",
        ["churn.balance_drain_other_bank", "churn.salary_stopped", "churn.logins_dropping"],
    ),
    ("GRUMPY-login57", "high", ["churn.complaint_open_too_long"]),  # unanswered for 5 days: high alone
]
#: (trigger event, offer id)
EXPECTED_OFFERS = [
    ("DRIFT-sal1", "offer.credit_card_gold"),
    ("DRIFT-sal2", "offer.credit_card_gold"),
    ("DRIFT-out1", "offer.retention_fee_waiver"),
]
