"""The control topic's record: a whole ruleset, readable by older workers, bounded in size."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.control import RulesetPublication, RuleSource


def publication(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version": "abc123",
        "files": [{"name": "churn.yaml", "text": "rules: []\n"}],
        "published_at": "2026-03-01T10:00:00Z",
    }
    return base | overrides


def test_a_publication_round_trips_and_keeps_the_text_byte_for_byte() -> None:
    text = "rules:\n  - id: x  # trailing spaces   \n\ttab\n"
    parsed = RulesetPublication.model_validate(publication(files=[{"name": "a.yaml", "text": text}]))
    again = RulesetPublication.model_validate_json(parsed.model_dump_json())
    assert again == parsed and again.files[0].text == text
    assert (again.type, again.published_by, again.host) == ("ruleset_publication", "", "")


def test_fields_a_newer_publisher_adds_are_ignored() -> None:
    parsed = RulesetPublication.model_validate(
        publication(signature="xyz", files=[{"name": "a.yaml", "text": "", "sha": "1"}])
    )
    assert "signature" not in parsed.model_dump() and "sha" not in parsed.files[0].model_dump()


@pytest.mark.parametrize(
    "bad",
    [
        {"files": []},
        {"version": ""},
        {"published_at": "2026-03-01T10:00:00"},
        {"files": [{"name": "", "text": ""}]},
        {"type": "something_else"},
    ],
)
def test_an_unusable_publication_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RulesetPublication.model_validate(publication(**bad))


def test_rule_files_are_bounded() -> None:
    with pytest.raises(ValidationError):
        RuleSource(name="big.yaml", text="x" * 1_000_001)
    with pytest.raises(ValidationError):
        RulesetPublication.model_validate(publication(files=[{"name": "a", "text": ""}] * 501))
