"""CEL conditions: compile, check against the field catalogue, and explain errors precisely.

CEL (Google's Common Expression Language) has no I/O, no imports and no unbounded loops, so a rule
cannot run code. We use the Rust-backed ``common-expression-language`` binding (``import cel``).
What CEL still allows is work that grows with the product of list sizes (comprehensions inside
comprehensions over long literal lists); ``limit_problems`` bounds that before anything compiles
or runs: comprehension nesting, comprehension count and list literal sizes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cel

from schemas.profile.fields import EVENT_FIELDS, PROFILE_FIELDS, FieldSpec

ROOTS: dict[str, tuple[FieldSpec, ...]] = {"profile": PROFILE_FIELDS, "event": EVENT_FIELDS}
_STRING_LITERAL = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_REFERENCE = re.compile(r"\b(profile|event)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)")
_CEL_POSITION = re.compile(r"<input>:(\d+):(\d+): (.*)")
_MACRO_CALL = re.compile(r"\.\s*(all|exists_one|exists|map|filter)\s*$")

#: The one CEL variable of a compiled ruleset: the list of every field its conditions read.
FIELDS = "sb_fields"

#: Comprehensions (all, exists, exists_one, map, filter) inside one another, at most this deep.
MAX_COMPREHENSION_DEPTH = 2
#: Comprehensions in one expression, at most.
MAX_COMPREHENSIONS = 8
#: Elements of one list literal, at most: with the depth limit, bounds the work of any expression.
MAX_LIST_ELEMENTS = 64

_DEFAULTS: dict[str, Any] = {"int": 0, "double": 0.0, "string": "", "bool": False, "list": []}
#: More dry-run values: CEL skips the right side of ``false && x``, so a type mistake there only
#: shows when the left side is true. Large and negative values flip most comparisons.
_PROBES: tuple[dict[str, Any], ...] = (
    _DEFAULTS,
    {"int": 1_000_000, "double": 1e6, "string": "", "bool": True, "list": []},
    {"int": -1, "double": -1.0, "string": "", "bool": True, "list": []},
)


@dataclass(frozen=True, slots=True)
class ExpressionProblem:
    line: int  # 1-based, inside the expression
    column: int  # 1-based, inside the expression
    message: str


def _blank_strings(source: str) -> str:
    """Replace string literals by spaces so field names inside quotes are not mistaken for references."""
    return _STRING_LITERAL.sub(lambda m: " " * len(m.group(0)), source)


def _locate(source: str, offset: int) -> tuple[int, int]:
    before = source[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def references(source: str) -> list[tuple[str, str, int]]:
    """(root, field, offset) of every ``profile.x`` / ``event.x`` the expression reads."""
    return [(m.group(1), m.group(2), m.start(2)) for m in _REFERENCE.finditer(_blank_strings(source))]


def flatten(source: str, name_of: Callable[[str, str], str]) -> str:
    """Rewrite every ``profile.x`` / ``event.x`` reference to ``name_of(root, x)``.

    The engine passes every field a ruleset reads as one list, so a reference becomes ``sb_fields[i]``
    (the binding converts one list much faster than a map of named variables). Runs on the
    string-blanked copy for positions, so text inside string literals is never touched.
    """
    pieces: list[str] = []
    last = 0
    for match in _REFERENCE.finditer(_blank_strings(source)):
        pieces.append(source[last : match.start()])
        pieces.append(name_of(match.group(1), match.group(2)))
        last = match.end()
    pieces.append(source[last:])
    return "".join(pieces)


def default_context() -> dict[str, dict[str, Any]]:
    """A profile and event with every catalogued field at a neutral value, for dry runs."""
    return {root: {spec.name: _DEFAULTS[spec.type] for spec in specs} for root, specs in ROOTS.items()}


def limit_problems(source: str) -> list[ExpressionProblem]:
    """Where ``source`` exceeds the limits on comprehensions and list literals (checked on the text,
    before compiling, so an expression over the limits never runs, not even as a dry run)."""
    blanked = _blank_strings(source)
    problems: list[ExpressionProblem] = []
    stack: list[tuple[str, int]] = []  # open brackets: ("(" or "m" for a comprehension, "["), commas
    comprehensions = 0
    for offset, char in enumerate(blanked):
        if char in "([{":
            macro = char == "(" and _MACRO_CALL.search(blanked[:offset]) is not None
            stack.append(("m" if macro else char, 0))
            if macro:
                comprehensions += 1
                depth = sum(1 for kind, _ in stack if kind == "m")
                line, column = _locate(source, offset)
                if depth > MAX_COMPREHENSION_DEPTH:
                    message = (
                        f"comprehension nested {depth} deep (at most {MAX_COMPREHENSION_DEPTH}): "
                        "its work grows with the product of the list sizes"
                    )
                    problems.append(ExpressionProblem(line, column, message))
                if comprehensions == MAX_COMPREHENSIONS + 1:
                    message = f"more than {MAX_COMPREHENSIONS} comprehensions in one condition"
                    problems.append(ExpressionProblem(line, column, message))
        elif char == "," and stack:
            kind, commas = stack[-1]
            stack[-1] = (kind, commas + 1)
        elif char in ")]}" and stack:
            kind, commas = stack.pop()
            if kind == "[" and commas + 1 > MAX_LIST_ELEMENTS:
                line, column = _locate(source, offset)
                message = f"list literal of {commas + 1} elements (at most {MAX_LIST_ELEMENTS})"
                problems.append(ExpressionProblem(line, column, message))
    return problems


def check_expression(source: str, want_bool: bool = True) -> tuple[Any, list[ExpressionProblem]]:
    """Compile ``source``; return the program (or None) and every problem found."""
    limited = limit_problems(source)
    if limited:
        return None, limited
    try:
        program = cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        return None, _syntax_problems(str(exc))
    problems: list[ExpressionProblem] = []
    known = {root: {spec.name for spec in specs} for root, specs in ROOTS.items()}
    for root, name, offset in references(source):
        if name not in known[root]:
            suggestion = difflib.get_close_matches(name, known[root], n=1)
            hint = f"; did you mean {root}.{suggestion[0]}?" if suggestion else ""
            line, column = _locate(source, offset)
            problems.append(ExpressionProblem(line, column, f"unknown field {root}.{name}{hint}"))
    bound = set(_MACRO_VARIABLE.findall(source))
    if FIELDS in bound:
        problems.append(ExpressionProblem(1, 1, f"{FIELDS!r} is a reserved name: choose another"))
    for variable in program.variables():
        if variable not in ROOTS and variable not in bound:
            problems.append(
                ExpressionProblem(1, 1, f"unknown name {variable!r}: use profile.<field> or event.<field>")
            )
    if problems:
        return None, problems
    for probe in _PROBES:
        context = {root: {spec.name: probe[spec.type] for spec in specs} for root, specs in ROOTS.items()}
        try:
            result = program.execute(context)
        except Exception as exc:  # CEL raises TypeError/KeyError/ValueError for type mistakes
            return None, [ExpressionProblem(1, 1, f"does not evaluate: {_first_line(exc)}")]
        if want_bool and not isinstance(result, bool):
            message = f"must be true or false, but gives {type(result).__name__}"
            return None, [ExpressionProblem(1, 1, message)]
    return program, []


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _syntax_problems(message: str) -> list[ExpressionProblem]:
    found = [
        ExpressionProblem(int(m.group(1)), int(m.group(2)) + 1, f"syntax error: {m.group(3).strip()}")
        for m in _CEL_POSITION.finditer(message)
    ]
    return found or [ExpressionProblem(1, 1, f"syntax error: {_first_line(ValueError(message))}")]
