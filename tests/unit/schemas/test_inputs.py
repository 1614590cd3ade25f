"""Input topics: strict validation of known fields of transactions, interactions and master data."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

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
    ],
)
def test_invalid_transactions_are_rejected_on_the_right_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Transaction.model_validate_json(json.dumps(transaction(**overrides)))
    assert field in {str(e["loc"][0]) for e in info.value.errors()}


def test_unknown_fields_are_set_aside_not_rejected() -> None:
    """Contracts evolve by adding fields: the decoder counts (or, on a strict topic, rejects) them."""
    head = {"event_id": "e-1", "customer_id": "C1", "occurred_at": "2026-03-01T10:00:00Z", "wallet": "D-1"}
    events = [
        Transaction.model_validate_json(json.dumps({**transaction(), "wallet": "D-1"})),
        Interaction.model_validate_json(json.dumps({**head, "kind": "login", "channel": "web"})),
        Customer.model_validate_json(json.dumps(head)),
    ]
    for event in events:
        assert event.model_extra == {"wallet": "D-1"}
        assert type(event).model_json_schema()["additionalProperties"] is True


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


def interaction(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": "i-1",
        "customer_id": "C1",
        "occurred_at": "2026-03-01T10:00:00Z",
        "kind": "product_opened",
        "channel": "branch",
    }
    base.update(overrides)
    return base


def test_interaction_product_is_an_upper_case_code() -> None:
    assert Interaction.model_validate(interaction(product="CREDIT_CARD")).product == "CREDIT_CARD"
    for bad in ("credit_card", "CREDIT CARD", "", "X" * 41):
        with pytest.raises(ValidationError) as info:
            Interaction.model_validate(interaction(product=bad))
        assert {str(e["loc"][0]) for e in info.value.errors()} == {"product"}


def test_merchant_category_is_four_digits() -> None:
    assert Transaction.model_validate(transaction(merchant_category="5411")).merchant_category == "5411"
    for bad in ("541", "54111", "ABCD"):
        with pytest.raises(ValidationError):
            Transaction.model_validate(transaction(merchant_category=bad))


def test_balance_after_may_be_negative_but_has_cents_at_most() -> None:
    assert Transaction.model_validate(transaction(balance_after="-250.75")).balance_after == Decimal(
        "-250.75"
    )
    with pytest.raises(ValidationError):
        Transaction.model_validate(transaction(balance_after="-1.001"))


def test_customer_master_data_is_validated_and_each_model_names_its_type() -> None:
    base = {"event_id": "m-1", "customer_id": "C1", "occurred_at": "2026-03-01T10:00:00Z"}
    customer = Customer.model_validate({**base, "segment": "sme", "birth_date": "1990-05-17"})
    assert (customer.type, customer.segment.value, customer.kyc_risk.value) == ("customer", "sme", "low")
    for bad in ({"segment": "vip"}, {"kyc_risk": "extreme"}, {"opened_at": "2020-01-01T00:00:00"}):
        with pytest.raises(ValidationError):
            Customer.model_validate({**base, **bad})
    assert Transaction.model_validate(transaction()).type == "transaction"
    assert Interaction.model_validate(interaction()).type == "interaction"
    with pytest.raises(ValidationError):
        Transaction.model_validate(transaction(type="interaction"))


def test_events_are_frozen() -> None:
    event = Transaction.model_validate(transaction())
    with pytest.raises(ValidationError):
        event.amount = Decimal("1.00")  # type: ignore[misc]
