"""Output topics: what consumers can rely on in every record the worker sends."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.outputs import ChurnAlert, CustomerSignal, DeadLetter, NextBestOffer, Reason, TierChange

AT = "2026-03-01T10:00:00Z"
REASON = {"rule_id": "churn.x", "message": "m", "weight": 0.5, "evidence": {"profile.x": 1}}


def alert(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "alert_id": "a1",
        "customer_id": "C1",
        "score": 0.5,
        "level": "high",
        "reasons": [REASON],
        "suggested_action": "call",
        "trigger_event_id": "e1",
        "occurred_at": AT,
        "ruleset_version": "v1",
    }
    return base | overrides


def offer(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "offer_event_id": "o1",
        "customer_id": "C1",
        "offer_id": "offer.keep",
        "product": "KEEP",
        "category": "retention",
        "score": 3.5,
        "channel": "mobile",
        "reasons": ["keep"],
        "trigger_event_id": "e1",
        "occurred_at": AT,
        "expires_at": "2026-03-21T10:00:00Z",
        "ruleset_version": "v1",
    }
    return base | overrides


def test_a_churn_alert_has_a_score_in_0_1_and_at_least_one_reason() -> None:
    parsed = ChurnAlert.model_validate(alert())
    assert parsed.type == "churn_alert" and parsed.reasons[0].evidence == {"profile.x": 1}
    bad: dict[str, Any]
    for bad in ({"score": 1.01}, {"score": -0.1}, {"reasons": []}, {"level": "extreme"}, {"extra": 1}):
        with pytest.raises(ValidationError):
            ChurnAlert.model_validate(alert(**bad))


def test_a_reason_weight_is_a_probability() -> None:
    with pytest.raises(ValidationError):
        Reason.model_validate(REASON | {"weight": 1.5})
    with pytest.raises(ValidationError):
        Reason.model_validate(REASON | {"message": "x" * 501})


def test_an_offer_goes_out_on_a_known_channel_and_defaults_to_the_champion() -> None:
    parsed = NextBestOffer.model_validate(offer())
    assert (parsed.strategy, parsed.propensity) == ("champion", 1.0)
    for channel in ("email", "sms", "push", "call_centre"):
        assert NextBestOffer.model_validate(offer(channel=channel)).channel == channel
    for bad in ({"channel": "fax"}, {"category": "upsell"}, {"score": -1}, {"propensity": 2}):
        with pytest.raises(ValidationError):
            NextBestOffer.model_validate(offer(**bad))


def test_signals_tier_changes_and_dead_letters_check_their_closed_values() -> None:
    signal: dict[str, Any] = {
        "signal_id": "s1",
        "customer_id": "C1",
        "kind": "care",
        "rule_id": "care.x",
        "message": "m",
        "evidence": {},
        "trigger_event_id": "check:2026-03-01",
        "occurred_at": AT,
        "ruleset_version": "v1",
    }
    assert CustomerSignal.model_validate(signal).action == ""
    with pytest.raises(ValidationError):
        CustomerSignal.model_validate(signal | {"severity": "urgent"})
    change: dict[str, Any] = {
        "change_id": "t1",
        "customer_id": "C1",
        "old_tier": None,
        "new_tier": "gold",
        "direction": "up",
        "rule_id": "tier.gold",
        "message": "m",
        "evidence": {},
        "trigger_event_id": "e1",
        "occurred_at": AT,
        "ruleset_version": "v1",
    }
    assert TierChange.model_validate(change).old_tier is None
    with pytest.raises(ValidationError):
        TierChange.model_validate(change | {"direction": "sideways"})
    letter: dict[str, Any] = {
        "source_topic": "bank.transactions.v1",
        "source_partition": 0,
        "source_offset": 7,
        "reason": "not_json",
        "errors": [],
        "payload_base64": "",
        "received_at": AT,
    }
    assert DeadLetter.model_validate(letter).key_base64 is None
    with pytest.raises(ValidationError):
        DeadLetter.model_validate(letter | {"reason": "boring"})
