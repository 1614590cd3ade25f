"""Shared field types: identifiers safe for Redis hash tags, money bounds, the input and output bases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.common import EARLIEST_EVENT_TIME, Identifier, Money, OutputModel, SignedMoney, StrictInput

IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
MONEY: TypeAdapter[Decimal] = TypeAdapter(Money)
SIGNED: TypeAdapter[Decimal] = TypeAdapter(SignedMoney)


@pytest.mark.parametrize("value", ["C1", "cust_01.a:b-2", "9", "x" * 64])
def test_identifiers_are_plain_tokens(value: str) -> None:
    assert IDENTIFIER.validate_python(value) == value


@pytest.mark.parametrize("value", ["", "x" * 65, "a{b}", "a b", "-lead", "_lead", "é", "a/b"])
def test_identifiers_refuse_braces_spaces_and_odd_starts(value: str) -> None:
    with pytest.raises(ValidationError):
        IDENTIFIER.validate_python(value)


def test_money_is_positive_with_cents_up_to_a_billion() -> None:
    assert MONEY.validate_python("0.01") == Decimal("0.01")
    assert MONEY.validate_python("1000000000") == Decimal("1000000000")
    for bad in ("0", "-1", "0.001", "1000000000.01", "NaN", "Infinity"):
        with pytest.raises(ValidationError):
            MONEY.validate_python(bad)
    assert SIGNED.validate_python("-1000000000") == Decimal("-1000000000")
    assert SIGNED.validate_python("0") == Decimal(0)
    with pytest.raises(ValidationError):
        SIGNED.validate_python("-1000000000.01")


class Probe(StrictInput):
    pass


class Out(OutputModel):
    value: int


def probe(occurred_at: str, **extra: object) -> dict[str, object]:
    return {"event_id": "e1", "customer_id": "C1", "occurred_at": occurred_at, **extra}


def test_inputs_need_an_aware_time_from_2000_on() -> None:
    assert Probe.model_validate(probe(EARLIEST_EVENT_TIME.isoformat())).occurred_at == EARLIEST_EVENT_TIME
    with pytest.raises(ValidationError, match="not plausible"):
        Probe.model_validate(probe("1999-12-31T23:59:59+00:00"))
    # 2000-01-01T00:30 in UTC+1 is 1999-12-31T23:30 UTC: the bound is an instant, not a local date
    with pytest.raises(ValidationError, match="not plausible"):
        Probe.model_validate(probe("2000-01-01T00:30:00+01:00"))
    with pytest.raises(ValidationError):
        Probe.model_validate(probe("2026-01-01T00:00:00"))


def test_inputs_refuse_unknown_fields_and_outputs_too() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Probe.model_validate(probe("2026-01-01T00:00:00Z", surprise=1))
    with pytest.raises(ValidationError, match="extra"):
        Out.model_validate({"value": 1, "surprise": 2})


def test_inputs_and_outputs_are_frozen() -> None:
    event = Probe.model_validate(probe("2026-01-01T00:00:00Z"))
    with pytest.raises(ValidationError):
        event.customer_id = "C2"  # type: ignore[misc]
    out = Out(value=1)
    with pytest.raises(ValidationError):
        out.value = 2  # type: ignore[misc]
