"""The rule-file schema: what an analyst may write, and the cross-field checks pydantic runs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from rules.load.model import LevelThresholds, Offer, RuleFile, Strategies, TagRule

OFFER: dict[str, Any] = {
    "id": "offer.card",
    "product": "CARD",
    "description": "A card",
    "eligible": "true",
    "value": 10,
    "channels": ["mobile"],
    "reason": "card",
}


def test_a_campaign_cannot_end_before_it_starts() -> None:
    ok = Offer.model_validate(OFFER | {"valid_from": "2025-01-01", "valid_until": "2025-01-01"})
    assert ok.valid_from == ok.valid_until == date(2025, 1, 1)
    with pytest.raises(ValidationError, match="valid_from must not be after valid_until"):
        Offer.model_validate(OFFER | {"valid_from": "2025-02-01", "valid_until": "2025-01-31"})


def test_defaults_and_durations_as_written() -> None:
    offer = Offer.model_validate(OFFER | {"cooldown": "48h"})
    assert offer.cooldown == timedelta(hours=48) and offer.valid_for == timedelta(days=14)
    assert (offer.category, offer.suitable, offer.propensity, offer.priority) == ("sales", "true", "1.0", 1.0)


def test_levels_must_rise() -> None:
    with pytest.raises(ValidationError, match="levels must rise"):
        LevelThresholds(watch=0.5, elevated=0.4)


def test_challengers_share_at_most_everyone_and_names_are_distinct() -> None:
    def strategies(*challengers: tuple[str, float]) -> Strategies:
        return Strategies.model_validate({"challengers": [{"name": n, "share": s} for n, s in challengers]})

    assert [c.name for c in strategies(("a", 0.5), ("b", 0.5)).challengers] == ["a", "b"]
    with pytest.raises(ValidationError, match="add up to more than 1"):
        strategies(("a", 0.6), ("b", 0.5))
    with pytest.raises(ValidationError, match="must be distinct"):
        strategies(("champion", 0.1))


def test_rules_are_told_apart_by_kind_and_per_names_a_profile_field() -> None:
    tag = {
        "id": "tag.payer",
        "kind": "tag",
        "tag": "payer",
        "description": "d",
        "when": "true",
        "message": "m",
    }
    parsed = RuleFile.model_validate({"rules": [tag | {"per": "profile.segment"}]})
    rule = parsed.rules[0]
    assert isinstance(rule, TagRule) and rule.per_field == "segment" and rule.cooldown == timedelta(days=90)
    assert TagRule.model_validate(tag | {"kind": "tag"}).per_field is None
    with pytest.raises(ValidationError, match="String should match pattern"):
        RuleFile.model_validate({"rules": [tag | {"per": "event.kind"}]})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        RuleFile.model_validate({"rules": [tag | {"wieght": 1}]})
