"""CEL expressions: references, flattening onto the field list, limits and checks against the catalogue."""

from __future__ import annotations

from rules.cel.expressions import (
    FIELDS,
    MAX_COMPREHENSION_DEPTH,
    MAX_COMPREHENSIONS,
    MAX_LIST_ELEMENTS,
    check_expression,
    default_context,
    flatten,
    limit_problems,
    references,
)
from rules.tools.case_context import complete_event, complete_profile


def test_default_context_gives_every_catalogued_field() -> None:
    ctx = default_context()
    assert set(ctx["profile"]) == set(complete_profile({}))
    assert set(ctx["event"]) == set(complete_event({}))


def test_references_skip_text_inside_string_literals() -> None:
    source = 'profile.segment == "profile.fake" && event.amount > 1.0'
    assert references(source) == [("profile", "segment", 8), ("event", "amount", source.index("amount"))]
    assert references("'event.kind' == \"x\"") == []


def test_flatten_rewrites_references_and_leaves_strings_alone() -> None:
    source = 'profile.segment == "profile.segment" || event . kind == "login"'
    flat = flatten(source, lambda root, name: f"{FIELDS}[{root[0]}_{name}]")
    assert flat == f'{FIELDS}[p_segment] == "profile.segment" || {FIELDS}[e_kind] == "login"'


def test_limits_bound_comprehensions_and_list_literals() -> None:
    nested = "[1].all(a, [2].all(b, [3].all(c, true)))"
    found = limit_problems(nested)
    assert len(found) == 1 and f"nested {MAX_COMPREHENSION_DEPTH + 1} deep" in found[0].message
    assert found[0].line == 1 and found[0].column == nested.rindex("(c") + 1  # 1-based, at the third bracket
    many = " && ".join(["[1].exists(x, x == 1)"] * (MAX_COMPREHENSIONS + 1))
    assert [p.message for p in limit_problems(many)] == [
        f"more than {MAX_COMPREHENSIONS} comprehensions in one condition"
    ]
    assert limit_problems(" && ".join(["[1].exists(x, x == 1)"] * MAX_COMPREHENSIONS)) == []
    long_list = "profile.segment in [" + ", ".join(['"a"'] * (MAX_LIST_ELEMENTS + 1)) + "]"
    assert "list literal of 65 elements" in limit_problems(long_list)[0].message
    assert limit_problems("profile.segment in [" + ", ".join(['"a"'] * MAX_LIST_ELEMENTS) + "]") == []
    # commas inside a string do not count as elements
    assert limit_problems('profile.segment in ["' + "," * 100 + '"]') == []


def test_check_expression_finds_unknown_fields_and_names_with_positions() -> None:
    program, found = check_expression("profile.login_count_30d > 1 &&\n  profile.logins_30d > 1")
    assert program is None
    assert [(p.line, p.column) for p in found] == [(2, 11)]
    assert "unknown field profile.logins_30d" in found[0].message
    program, found = check_expression("customer.age > 1")
    assert program is None and "unknown name 'customer'" in found[0].message


def test_check_expression_wants_a_boolean_unless_told_otherwise() -> None:
    program, found = check_expression("profile.login_count_30d + 1")
    assert program is None and found[0].message == "must be true or false, but gives int"
    program, found = check_expression("profile.login_count_30d + 1", want_bool=False)
    assert program is not None and found == []


def test_check_expression_reports_syntax_errors_inside_the_expression() -> None:
    program, found = check_expression("profile.login_count_30d >")
    assert program is None and found[0].message.startswith("syntax error")
    assert found[0].line == 1 and found[0].column > 1


def test_a_comprehension_may_read_its_own_variable() -> None:
    program, found = check_expression('profile.products.exists(p, p.startsWith("retail"))')
    assert found == [] and program is not None
