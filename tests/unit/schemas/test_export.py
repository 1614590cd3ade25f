"""Input and output contracts: strict validation and up-to-date JSON Schema files."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.export import SCHEMA_DIR, render_schemas
from schemas.inputs import Customer, Interaction, Transaction


def transaction(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": "e-1",
        "customer_id": "C1",
        "occurred_at": "2026-03-01T10:00:00+00:00",
        "account_id": "A1",
        "kind": "card_payment",
        "amount": "12.50",
        "currency": "EUR",
        "channel": "pos",
    }
    base.update(overrides)
    return base


def test_valid_transaction_parses_amount_as_decimal() -> None:
    event = Transaction.model_validate_json(json.dumps(transaction()))
    assert event.amount == Decimal("12.50")
    assert event.occurred_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_at": "2026-03-01T10:00:00"}, "occurred_at"),  # naive time
        ({"occurred_at": "1970-01-01T00:00:00+00:00"}, "occurred_at"),  # absurdly old
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "1e12"}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"kind": "teleport"}, "kind"),
        ({"channel": "pigeon"}, "channel"),
        ({"customer_id": "x" * 65}, "customer_id"),
        ({"customer_id": "bad{tag}"}, "customer_id"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_transactions_are_rejected_on_the_right_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Transaction.model_validate_json(json.dumps(transaction(**overrides)))
    assert field in {str(e["loc"][0]) for e in info.value.errors()}


def test_interaction_score_is_bounded() -> None:
    base = {
        "event_id": "i-1",
        "customer_id": "C1",
        "occurred_at": "2026-03-01T10:00:00Z",
        "kind": "survey_response",
        "channel": "web",
    }
    assert Interaction.model_validate({**base, "score": 10}).score == 10
    with pytest.raises(ValidationError):
        Interaction.model_validate({**base, "score": 11})


def test_customer_defaults_deny_marketing() -> None:
    customer = Customer.model_validate(
        {"event_id": "m-1", "customer_id": "C1", "occurred_at": "2026-03-01T10:00:00Z"}
    )
    assert customer.marketing_consent is False


def test_exported_json_schemas_are_current() -> None:
    rendered = render_schemas()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert set(on_disk) == set(rendered), "run `signalbank schemas export`"
    stale = [name for name, text in rendered.items() if on_disk[name] != text]
    assert not stale, f"stale JSON Schemas {stale}: run `signalbank schemas export`"


def test_exported_schema_rejects_unknown_input_fields() -> None:
    schema = json.loads((SCHEMA_DIR / "bank.transactions.v1.json").read_text())
    assert schema["additionalProperties"] is False
    assert "amount" in schema["required"]
