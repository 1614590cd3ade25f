"""The output builders without Redis: ids, expiry, and what each record carries from its evaluation."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta

from agents.claims import plan_claims
from agents.outputs import churn_alert, customer_signal, expiry, next_best_offer, stable_id, tier_change
from rules.evaluate.tiers import TierDecision, TierState
from rules.load.ruleset import load_sources
from schemas.catalog import CHURN_ALERTS, OFFERS, SERVICE_ALERTS, SIGNALS, TIER_CHANGES
from schemas.outputs import ChurnAlert, CustomerSignal, NextBestOffer, SignalKind, TierChange
from schemas.profile.churn_probability import ChurnProbability
from tests.support.small_rules import AT, SMALL_RULES, evaluated, small_ruleset

WITHDRAWAL = {"kind": "withdrawal", "amount": 250.0}


def test_stable_ids_depend_only_on_their_parts() -> None:
    first = stable_id("alert", "C1", "E1", "v1")
    assert first == stable_id("alert", "C1", "E1", "v1") and len(first) == 32
    assert int(first, 16) >= 0  # hexadecimal
    assert first != stable_id("alert", "C1", "E2", "v1") != stable_id("alert", "C1", "E1", "v2")


def test_an_offer_expires_after_its_validity_but_never_past_its_campaign() -> None:
    assert expiry(AT, timedelta(days=20), None) == AT + timedelta(days=20)
    assert expiry(AT, timedelta(days=20), date(2026, 3, 5)) == datetime(2026, 3, 6, tzinfo=UTC)


def test_a_churn_alert_carries_the_fired_rules_as_reasons_with_evidence() -> None:
    ruleset = small_ruleset()
    item = evaluated(ruleset, WITHDRAWAL)
    record = churn_alert(item.trigger, item.evaluation, "A-1", ruleset.version)
    assert (record.topic, record.key) == (CHURN_ALERTS, b"C1")
    alert = record.value
    assert isinstance(alert, ChurnAlert)
    assert (alert.alert_id, alert.customer_id, alert.trigger_event_id) == ("A-1", "C1", "E1")
    assert alert.occurred_at == AT and alert.ruleset_version == ruleset.version
    assert alert.level == item.evaluation.level and alert.score == item.evaluation.score
    [reason] = alert.reasons
    assert (reason.rule_id, reason.weight, reason.message) == ("churn.withdrawal", 0.7, "withdrawal of 250")
    assert reason.evidence == {"event.kind": "withdrawal"}
    assert json.loads(record.encoded())["alert_id"] == "A-1"


def test_signals_carry_their_rule_s_kind_fields_and_service_alerts_their_own_topic() -> None:
    ruleset = small_ruleset()
    item = evaluated(ruleset, {"kind": "login"}, {"complaints_open": 1, "oldest_open_complaint_ref": "CMP-7"})
    by_rule = {f.rule.id: f for f in item.evaluation.signals}
    tag = customer_signal(item.trigger, by_rule["tag.everyone"], "S-1", item.evaluation, ruleset.version)
    service = customer_signal(item.trigger, by_rule["service.complaint"], "S-2", item.evaluation, "v")
    assert (tag.topic, service.topic) == (SIGNALS, SERVICE_ALERTS)
    assert isinstance(tag.value, CustomerSignal) and isinstance(service.value, CustomerSignal)
    assert (tag.value.kind, tag.value.tag, tag.value.severity, tag.value.action) == (
        SignalKind.TAG,
        "everyone",
        None,
        "",
    )
    assert (service.value.kind, service.value.severity, service.value.action) == (
        SignalKind.SERVICE,
        "high",
        "Call the customer back",
    )
    assert service.value.message == "Complaint CMP-7 open"
    assert service.value.evidence == {"profile.complaints_open": 1}


def test_a_tier_change_is_explained_by_the_rule_that_moved_it() -> None:
    ruleset = small_ruleset()
    stored = TierState("mass", 1, 0, "old", "").encode()
    item = evaluated(ruleset, {"kind": "login"}, {"balance_avg_90d": 5000.0}, stored_tier=stored)
    decision = plan_claims(item, ruleset).tier_change
    assert decision is not None
    record = tier_change(item.trigger, decision, item.evaluation, ruleset)
    assert record is not None and record.topic == TIER_CHANGES
    change = record.value
    assert isinstance(change, TierChange)
    assert (change.old_tier, change.new_tier, change.direction, change.rule_id) == (
        "mass",
        "gold",
        "up",
        "tier.gold",
    )
    assert change.evidence == {"profile.balance_avg_90d": 5000.0}
    assert tier_change(item.trigger, TierDecision(None, None, None), item.evaluation, ruleset) is None


def test_an_offer_goes_out_on_the_channel_the_claim_picked() -> None:
    ruleset = small_ruleset()
    item = evaluated(ruleset, WITHDRAWAL)
    [candidate] = item.evaluation.candidates
    expires = AT + timedelta(days=20)
    record = next_best_offer(item.trigger, item.evaluation, candidate, "OE-1", expires, "call_centre", "v9")
    assert (record.topic, record.key) == (OFFERS, b"C1")
    offer = record.value
    assert isinstance(offer, NextBestOffer)
    assert (offer.offer_event_id, offer.offer_id, offer.product, offer.channel) == (
        "OE-1",
        "offer.keep",
        "KEEP",
        "call_centre",
    )
    assert (offer.expires_at, offer.ruleset_version, offer.strategy) == (expires, "v9", "champion")
    assert offer.propensity == round(candidate.propensity, 6)
    assert offer.reasons == ["keep", "A retention offer"]


#: A fitted churn probability: quiet days raise it; churn.withdrawal was weighed at 2 log-odds.
FITTED = ChurnProbability(
    intercept=-3.0,
    features={"log_days_since_active_day": 1.0},
    feature_means={"log_days_since_active_day": 1.0},
    rules={"churn.withdrawal": 2.0},
    min_history_days=30,
)
HISTORY = {"history_days": 400, "days_since_first_active_day": 400, "active_days": 200}


def test_with_a_fitted_probability_the_alert_scores_it_and_the_rhythm_is_a_reason() -> None:
    ruleset = small_ruleset()
    quiet = {**HISTORY, "days_since_active_day": 60, "activity_gap_median_days": 2.0}
    item = evaluated(ruleset, WITHDRAWAL, quiet, churn=FITTED)
    z = -3.0 + math.log1p(60) + 2.0
    assert item.evaluation.score == round(1 / (1 + math.exp(-z)), 6)
    alert = churn_alert(item.trigger, item.evaluation, "A-1", ruleset.version).value
    assert isinstance(alert, ChurnAlert)
    assert [r.rule_id for r in alert.reasons] == ["churn.rhythm", "churn.withdrawal"]  # 3.1 > 2.0
    rhythm, rule = alert.reasons
    assert rule.weight == round(1 - math.exp(-2.0), 4)
    assert rhythm.evidence["days_since_active_day"] == 60
    assert "usually every 2 days" in rhythm.message


def test_the_rhythm_alone_raises_an_alert_but_not_before_the_customer_has_history() -> None:
    ruleset = small_ruleset()
    silent = {**HISTORY, "days_since_active_day": 200}
    item = evaluated(ruleset, {"kind": "login"}, silent, churn=FITTED)
    assert item.evaluation.level is not None and not item.evaluation.fired
    alert = churn_alert(item.trigger, item.evaluation, "A-2", ruleset.version).value
    assert isinstance(alert, ChurnAlert) and [r.rule_id for r in alert.reasons] == ["churn.rhythm"]
    assert plan_claims(item, ruleset).alert is not None
    new = evaluated(ruleset, {"kind": "login"}, {**silent, "history_days": 20}, churn=FITTED)
    assert new.evaluation.level is None and plan_claims(new, ruleset).alert is None


def test_an_alert_keeps_the_churn_policy_s_quiet_period_else_its_top_reason_s_cooldown() -> None:
    plain = small_ruleset()
    item = evaluated(plain, WITHDRAWAL)
    claim = plan_claims(item, plain).alert
    assert claim is not None and claim.until_ms - claim.now_ms == 10 * 86_400_000  # the rule's 10d
    quiet = load_sources(
        [("small.yaml", SMALL_RULES.replace("rules:\n", "churn_policy:\n  quiet_period: 60d\nrules:\n", 1))]
    )
    claim = plan_claims(evaluated(quiet, WITHDRAWAL), quiet).alert
    assert claim is not None and claim.until_ms - claim.now_ms == 60 * 86_400_000
