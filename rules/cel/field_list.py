"""How the fields a ruleset reads cross into CEL: one list, each value in its cheapest shape.

The binding converts a Python value by trying bool, int, float, ... in turn, and every failed try
raises inside it, so the shape of a value decides its cost (measured in docs/architecture.md):

* ints and bools go as they are (the int try succeeds at once);
* doubles that always hold whole cents (``FieldSpec.cents``) go as an int count of cents; the
  condition reads ``double(x) / 100.0``, which is exactly the same double as the profile's value;
* strings and lists of strings go as a ``cel.OptionalValue`` built once per distinct value and
  reused (the binding takes it without converting); the condition reads ``x.value()``;
* other doubles go as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from operator import itemgetter
from typing import Any

import cel

from rules.cel.expressions import FIELDS
from schemas.profile.fields import EVENT_FIELDS, PROFILE_FIELDS, FieldSpec

_SPECS: dict[tuple[str, str], FieldSpec] = {("profile", s.name): s for s in PROFILE_FIELDS} | {
    ("event", s.name): s for s in EVENT_FIELDS
}
#: Distinct strings and lists kept converted, at most; past it the cache starts again (ids, references).
INTERNED_LIMIT = 4096


class Shape(Enum):
    PLAIN = "plain"
    CENTS = "cents"
    INTERNED = "interned"


def shape_of(root: str, name: str) -> Shape:
    spec = _SPECS.get((root, name))
    if spec is None:
        return Shape.PLAIN
    if spec.cents:
        return Shape.CENTS
    if spec.type in ("string", "list"):
        return Shape.INTERNED
    return Shape.PLAIN


class _Interner:
    """Converted strings and lists by value: most have a handful of values (kinds, segments, products)."""

    def __init__(self) -> None:
        self._known: dict[Any, Any] = {}

    def get(self, value: Any) -> Any:
        key = tuple(value) if isinstance(value, list) else value
        found = self._known.get(key)
        if found is None:
            if len(self._known) >= INTERNED_LIMIT:
                self._known.clear()
            found = self._known[key] = cel.OptionalValue.of(value)
        return found


def _getter(names: Sequence[str]) -> Callable[[dict[str, Any]], Sequence[Any]]:
    """A C-speed getter of ``names`` from a dict, always giving a sequence (itemgetter does for 2+)."""
    if not names:
        return lambda _: ()
    if len(names) == 1:
        only = names[0]
        return lambda values: (values[only],)
    return itemgetter(*names)


class FieldList:
    """The ruleset's field list: its order, how a condition refers to an element, and its values."""

    def __init__(self, reads: Iterable[tuple[str, str]]) -> None:
        wanted = set(reads)
        self.fields: tuple[tuple[str, str], ...] = tuple(
            (root, name)
            for root in ("profile", "event")
            for shape in Shape
            for name in sorted(n for r, n in wanted if r == root and shape_of(r, n) is shape)
        )
        self._slots = {field: i for i, field in enumerate(self.fields)}
        self.values = _values_function(self.fields, _Interner())

    def reference(self, root: str, name: str) -> str:
        """The CEL text that reads ``root.name`` from the list."""
        slot = f"{FIELDS}[{self._slots[(root, name)]}]"
        shape = shape_of(root, name)
        if shape is Shape.CENTS:
            return f"(double({slot}) / 100.0)"
        if shape is Shape.INTERNED:
            return f"{slot}.value()"
        return slot


Values = Callable[[dict[str, Any], dict[str, Any]], list[Any]]


def _values_function(fields: Sequence[tuple[str, str]], intern: _Interner) -> Values:
    """The list for one evaluation, in ``fields`` order: straight-line code, it runs for every event."""

    def part(root: str, shape: Shape) -> Callable[[dict[str, Any]], Sequence[Any]]:
        return _getter([n for r, n in fields if r == root and shape_of(r, n) is shape])

    profile_plain, profile_cents, profile_interned = (part("profile", shape) for shape in Shape)
    event_plain, event_cents, event_interned = (part("event", shape) for shape in Shape)
    get = intern.get

    def values(profile: dict[str, Any], event: dict[str, Any]) -> list[Any]:
        return [
            *profile_plain(profile),
            *[round(v * 100) for v in profile_cents(profile)],
            *map(get, profile_interned(profile)),
            *event_plain(event),
            *[round(v * 100) for v in event_cents(event)],
            *map(get, event_interned(event)),
        ]

    return values
