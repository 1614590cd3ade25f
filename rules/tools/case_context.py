"""Complete profiles and events from the few fields a rule test or an analyst writes.

Defaults come from the code that builds real profiles and events (``build_profile`` on an empty
state, ``neutral_event``), so a test means the same thing the day a default changes. Values are
coerced to the catalogue type: CEL does not mix int and double in arithmetic, so YAML ``3`` for a
double field must become ``3.0`` exactly as the live profile would carry it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from schemas.inputs import InteractionKind, TransactionKind
from schemas.profile.fields import EVENT_FIELDS, PROFILE_FIELDS, FieldSpec
from schemas.profile.shape import METRIC_COUNT, WINDOWS
from schemas.profile.view import Profile, build_profile, neutral_event

#: 2025-01-01T00:00:00Z. An empty profile reads no clock-dependent value, so any fixed time will do.
NEUTRAL_NOW_MS = 1_735_689_600_000
TEST_CUSTOMER = "test-customer"
#: Event type of a check with no new event (a silence check): every event field is neutral.
SILENCE = "check"  # as agents.pipeline evaluates a silence check
EVENT_TYPES = ("transaction", "interaction", "customer", SILENCE)

_KIND_TYPE = {
    **{kind.value: "transaction" for kind in TransactionKind},
    **{kind.value: "interaction" for kind in InteractionKind},
}
_PROFILE_SPECS = {spec.name: spec for spec in PROFILE_FIELDS}
_EVENT_SPECS = {spec.name: spec for spec in EVENT_FIELDS}


class FieldProblem(ValueError):
    """A value a test gives that the live pipeline could never produce; ``field`` locates it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def neutral_profile(customer_id: str = TEST_CUSTOMER) -> Profile:
    """What a customer with no history looks like: counts 0, ``days_since_*`` never, NPS -1."""
    return build_profile(customer_id, {}, [0] * (len(WINDOWS) * METRIC_COUNT), NEUTRAL_NOW_MS)


def coerce(spec: FieldSpec, value: Any) -> Any:
    """``value`` as the catalogue type of ``spec``; ValueError naming what was expected."""
    if spec.type == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"must be a whole number (int), got {value!r}")
    if spec.type == "double":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"must be a number (double), got {value!r}")
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError(f"must be true or false, got {value!r}")
    if spec.type == "list":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ValueError(f"must be a list of text, e.g. [CURRENT_ACCOUNT], got {value!r}")
    if isinstance(value, str):
        return value
    raise ValueError(f"must be text (quote it), got {value!r}")


def _unknown(root: str, name: str, known: Mapping[str, FieldSpec]) -> FieldProblem:
    suggestion = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {suggestion[0]!r}?" if suggestion else ""
    return FieldProblem(name, f"unknown {root} field {name!r}{hint}")


def _apply(
    root: str, target: dict[str, Any], given: Mapping[str, Any], specs: Mapping[str, FieldSpec]
) -> None:
    for name, value in given.items():
        spec = specs.get(str(name))
        if spec is None:
            raise _unknown(root, str(name), specs)
        try:
            target[spec.name] = coerce(spec, value)
        except ValueError as exc:
            raise FieldProblem(spec.name, f"{root}.{spec.name} {exc}") from None


def complete_profile(given: Mapping[str, Any]) -> Profile:
    """The neutral profile with ``given`` fields set; FieldProblem on an unknown field or bad value."""
    profile = neutral_profile()
    _apply("profile", profile, given, _PROFILE_SPECS)
    return profile


def complete_event(given: Mapping[str, Any]) -> dict[str, Any]:
    """The neutral event with ``given`` fields set; ``type`` follows ``kind`` unless given."""
    kind = given.get("kind", "")
    if kind and kind not in _KIND_TYPE:
        suggestion = difflib.get_close_matches(str(kind), _KIND_TYPE, n=1)
        hint = f"; did you mean {suggestion[0]!r}?" if suggestion else ""
        raise FieldProblem("kind", f"unknown event kind {kind!r}{hint}")
    event_type = given.get("type", _KIND_TYPE.get(str(kind), SILENCE))
    if event_type not in EVENT_TYPES:
        raise FieldProblem("type", f"event.type must be one of {', '.join(EVENT_TYPES)}, got {event_type!r}")
    if kind and event_type != _KIND_TYPE[str(kind)]:
        raise FieldProblem(
            "type", f"event kind {kind!r} belongs to type {_KIND_TYPE[str(kind)]}, not {event_type}"
        )
    event = neutral_event(str(event_type), str(given.get("event_id", "test-event")))
    _apply("event", event, given, _EVENT_SPECS)
    return event
