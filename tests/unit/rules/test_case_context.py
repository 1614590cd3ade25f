"""Complete profiles and events from the few fields a rule test or an analyst writes."""

from __future__ import annotations

import pytest

from rules.tools.case_context import (
    NEUTRAL_NOW_MS,
    FieldProblem,
    coerce,
    complete_event,
    complete_profile,
    neutral_profile,
)
from schemas.profile.fields import NEVER_DAYS, PROFILE_FIELDS
from schemas.profile.shape import METRIC_COUNT, WINDOWS
from schemas.profile.view import build_profile


def test_defaults_are_a_customer_with_no_history() -> None:
    profile = complete_profile({})
    assert profile == build_profile("test-customer", {}, [0] * (len(WINDOWS) * METRIC_COUNT), NEUTRAL_NOW_MS)
    assert profile["days_since_activity"] == NEVER_DAYS and profile["last_nps"] == -1
    assert profile["age_years"] == -1 and profile["tenure_days"] == -1
    assert profile["login_count_30d"] == 0 and profile["balance_last"] == 0.0
    assert complete_event({})["type"] == "check"
    assert neutral_profile() == profile


def test_values_are_coerced_to_the_catalogue_type() -> None:
    profile = complete_profile({"card_spend_30d": 3, "login_count_30d": 4.0, "products": ["X"]})
    assert profile["card_spend_30d"] == 3.0 and isinstance(profile["card_spend_30d"], float)
    assert profile["login_count_30d"] == 4 and isinstance(profile["login_count_30d"], int)
    event = complete_event({"kind": "transfer_out", "amount": 5000})
    assert event["type"] == "transaction" and isinstance(event["amount"], float)


def test_unknown_fields_are_named_with_a_suggestion() -> None:
    with pytest.raises(
        FieldProblem, match="unknown profile field 'login_count_30'; did you mean 'login_count_30d'"
    ) as info:
        complete_profile({"login_count_30": 1})
    assert info.value.field == "login_count_30"
    with pytest.raises(FieldProblem, match="unknown event field 'amont'") as info:
        complete_event({"amont": 3})
    assert info.value.field == "amont"


def test_bad_values_name_the_field_and_the_expected_type() -> None:
    with pytest.raises(FieldProblem, match=r"profile\.login_count_30d must be a whole number") as info:
        complete_profile({"login_count_30d": 2.5})
    assert info.value.field == "login_count_30d"
    for value in (True, "3"):
        with pytest.raises(FieldProblem, match="must be a number"):
            complete_profile({"card_spend_30d": value})
    with pytest.raises(FieldProblem, match="must be a list of text"):
        complete_profile({"products": ["X", 1]})


def test_coerce_follows_each_catalogue_type() -> None:
    spec = {s.type: s for s in PROFILE_FIELDS}
    assert coerce(spec["int"], 4.0) == 4 and type(coerce(spec["int"], 4.0)) is int
    assert coerce(spec["double"], 3) == 3.0 and type(coerce(spec["double"], 3)) is float
    assert coerce(spec["bool"], False) is False
    assert coerce(spec["string"], "x") == "x"
    for field, bad in ((spec["int"], True), (spec["bool"], 1), (spec["string"], 3), (spec["list"], "X")):
        with pytest.raises(ValueError):
            coerce(field, bad)


def test_event_type_follows_kind_and_must_agree_with_it() -> None:
    assert complete_event({"kind": "login"})["type"] == "interaction"
    assert complete_event({"kind": "salary_credit"})["type"] == "transaction"
    with pytest.raises(FieldProblem, match="unknown event kind 'salary_credt'; did you mean 'salary_credit'"):
        complete_event({"kind": "salary_credt"})
    with pytest.raises(FieldProblem, match="belongs to type transaction, not interaction") as info:
        complete_event({"kind": "salary_credit", "type": "interaction"})
    assert info.value.field == "type"
    with pytest.raises(FieldProblem, match=r"event\.type must be one of"):
        complete_event({"type": "payment"})
