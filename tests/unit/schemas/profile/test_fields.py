"""The field catalogue against the code: build_profile and build_event_context produce exactly the
catalogued fields, each with its declared type; cents fields hold whole cents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from schemas.common import Channel
from schemas.inputs import Customer, InputEvent, Interaction, InteractionKind, Transaction, TransactionKind
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.delta import MS_PER_DAY
from schemas.profile.fields import EVENT_FIELDS, PROFILE_FIELDS, FieldSpec
from schemas.profile.shape import METRIC_COUNT, WINDOWS
from schemas.profile.view import build_event_context, build_profile

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
TODAY = NOW_MS // MS_PER_DAY
PYTHON_TYPES: dict[str, type] = {"int": int, "double": float, "string": str, "bool": bool, "list": list}


def ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def rich_profile() -> dict[str, Any]:
    """A profile with every part of the state present and odd amounts everywhere."""
    state = {
        "m:segment": "1|sme",
        "m:marketing_consent": "1|1",
        "m:kyc_risk": "1|medium",
        "m:birth_date": "1|1988-07-09",
        "m:opened_ms": f"1|{ms(NOW - timedelta(days=1000))}",
        "m:household_id": "1|H1",
        "balance": "1|123457",
        "salary_ts": ms(NOW - timedelta(days=3)),
        "login_ts": ms(NOW - timedelta(days=1)),
        "activity_ts": ms(NOW),
        "contact_ts": ms(NOW - timedelta(days=9)),
        "offer_accept_ts": ms(NOW - timedelta(days=20)),
        "offer_decline_ts": ms(NOW - timedelta(days=2)),
        "c:A": f"1|open:{ms(NOW - timedelta(hours=7))}",
        "p:CURRENT_ACCOUNT": "1|1",
        "nps": "1|9",
        "act_first": str(TODAY - 300),
        "act_last": str(TODAY),
        "payee_bank": "1|N26",
        "ob:N26": f"{TODAY - 10},{TODAY - 1},2",
    }
    window_sums = [(7 + 13 * i) * (1 + i % 5) for i in range(METRIC_COUNT * len(WINDOWS))]
    model = BgNbdParams(r=0.8, alpha=10.0, a=0.9, b=3.0)
    return build_profile("C1", state, window_sums, NOW_MS, model, active_days=40)


def check_type(spec: FieldSpec, value: Any) -> None:
    declared = type(value) is PYTHON_TYPES[spec.type]  # exactly: a bool is no int here
    assert declared, (spec.name, value)
    if spec.type == "list":
        assert all(isinstance(item, str) for item in value), spec.name
    if spec.cents:
        assert round(value * 100, 6) == round(value * 100), (spec.name, value)


def test_names_are_unique_and_every_windowed_field_has_every_window() -> None:
    for specs in (PROFILE_FIELDS, EVENT_FIELDS):
        listed = [spec.name for spec in specs]
        assert len(listed) == len(set(listed))
    names = {spec.name for spec in PROFILE_FIELDS}
    bases = {name.rsplit("_", 1)[0] for name in names if name.endswith(f"_{WINDOWS[-1]}d")}
    assert {f"{base}_{days}d" for base in bases for days in WINDOWS} <= names


def test_cents_are_only_declared_on_doubles() -> None:
    assert all(spec.type == "double" for spec in (*PROFILE_FIELDS, *EVENT_FIELDS) if spec.cents)


@pytest.mark.parametrize(
    "profile",
    [
        rich_profile(),
        build_profile("C0", {}, [0] * (METRIC_COUNT * len(WINDOWS)), NOW_MS),
    ],
    ids=["rich", "empty"],
)
def test_build_profile_produces_exactly_the_catalogue_with_its_types(profile: dict[str, Any]) -> None:
    specs = {spec.name: spec for spec in PROFILE_FIELDS}
    assert set(profile) - set(specs) == set(), "produced but not catalogued"
    assert set(specs) - set(profile) == set(), "catalogued but not produced"
    for name, value in profile.items():
        check_type(specs[name], value)


def test_build_event_context_produces_exactly_the_event_fields_with_their_types() -> None:
    events: list[InputEvent] = [
        Transaction(
            event_id="t1",
            customer_id="C1",
            occurred_at=NOW,
            account_id="A1",
            kind=TransactionKind.TRANSFER_OUT,
            amount=Decimal("10.05"),
            currency="EUR",
            channel=Channel.WEB,
            counterparty_bank="N26",
            merchant_category="5411",
        ),
        Interaction(
            event_id="i1",
            customer_id="C1",
            occurred_at=NOW,
            kind=InteractionKind.SURVEY_RESPONSE,
            channel=Channel.MOBILE,
            product="CARD",
            score=7,
            reference="R1",
        ),
        Customer(event_id="m1", customer_id="C1", occurred_at=NOW),
    ]
    specs = {spec.name: spec for spec in EVENT_FIELDS}
    for event in events:
        context = build_event_context(event, "SIGNALBANK")
        assert set(context) == set(specs), event.type
        for name, value in context.items():
            check_type(specs[name], value)
