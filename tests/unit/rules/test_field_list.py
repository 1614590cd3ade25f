"""The field list: each value crosses into CEL in its cheapest shape and reads back exactly."""

from __future__ import annotations

import cel
from hypothesis import given
from hypothesis import strategies as st

from rules.cel.expressions import FIELDS, flatten
from rules.cel.field_list import INTERNED_LIMIT, FieldList, Shape, shape_of


def _run(source: str, profile: dict[str, object], event: dict[str, object] | None = None) -> object:
    """Compile ``source`` the way a ruleset does and run it on one profile and event."""
    fields = FieldList([("profile", "balance_last"), ("event", "kind")])
    program = cel.compile(flatten(source, fields.reference))
    return program.execute({FIELDS: fields.values(profile, event or {"kind": ""})})


def test_each_catalogue_type_has_its_shape() -> None:
    assert shape_of("profile", "login_count_30d") is Shape.PLAIN
    assert shape_of("profile", "p_alive") is Shape.PLAIN  # a probability is not whole cents
    assert shape_of("profile", "balance_last") is Shape.CENTS
    assert shape_of("event", "amount") is Shape.CENTS
    assert shape_of("profile", "segment") is Shape.INTERNED
    assert shape_of("profile", "products") is Shape.INTERNED


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_money_reads_back_as_the_very_same_double(cents: int) -> None:
    value = cents / 100
    assert _run(f"profile.balance_last == {value!r}", {"balance_last": value}) is True
    assert _run("profile.balance_last", {"balance_last": value}) == value


def test_strings_and_lists_read_back_unchanged() -> None:
    fields = FieldList([("profile", "products"), ("profile", "segment"), ("event", "kind")])
    source = '"CARD" in profile.products && profile.segment == "retail" && event.kind.startsWith("sal")'
    program = cel.compile(flatten(source, fields.reference))
    hit = fields.values({"products": ["CARD", "LOAN"], "segment": "retail"}, {"kind": "salary_credit"})
    miss = fields.values({"products": ["LOAN"], "segment": "retail"}, {"kind": "salary_credit"})
    assert program.execute({FIELDS: hit}) is True
    assert program.execute({FIELDS: miss}) is False


def test_interned_values_are_converted_once_and_the_cache_is_bounded() -> None:
    fields = FieldList([("profile", "household_id")])
    first = fields.values({"household_id": "H1"}, {})[0]
    assert fields.values({"household_id": "H1"}, {})[0] is first
    for i in range(INTERNED_LIMIT + 10):  # many distinct ids: the cache starts again, values stay right
        (converted,) = fields.values({"household_id": f"H{i}"}, {})
        assert converted.value() == f"H{i}"
