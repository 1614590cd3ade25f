"""The claim step without Redis: named slots, the order claims go out and replies come back, duplicates,
offer limits, and which outputs the answers grant."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from agents.claims import Answers, ClaimPlan, granted_outputs, offer_limits, plan_claims
from agents.metrics import Metrics
from agents.outputs import stable_id
from agents.timeline import TimelineLimits
from rules.evaluate.engine import level_rank
from rules.evaluate.tiers import TierState
from schemas.catalog import CHURN_ALERTS, OFFERS, SERVICE_ALERTS, SIGNALS, TIER_CHANGES
from sinks.redis.claims import (
    Claim,
    ClaimReply,
    CompareAndSet,
    ResponseClaim,
    TagChange,
    TagClaim,
    TimelineWrite,
)
from sinks.redis.timeline import TimelineEvent, TimelineNote
from tests.support.small_rules import AT, AT_MS, evaluated, small_ruleset

DAY_MS = 86_400_000
WITHDRAWAL = {"kind": "withdrawal", "amount": 250.0}


def gold_plan(duplicate: bool = False) -> ClaimPlan:
    """A withdrawal by a customer stored in the mass tier whose balance now makes them gold."""
    ruleset = small_ruleset()
    stored = TierState("mass", 1, 0, "old", "").encode()
    item = evaluated(ruleset, WITHDRAWAL, {"balance_avg_90d": 5000.0}, duplicate, stored_tier=stored)
    return plan_claims(item, ruleset)


def test_each_output_has_a_named_slot_with_its_claim() -> None:
    ruleset = small_ruleset()
    plan = gold_plan()
    level = plan.evaluation.level
    assert level is not None
    assert plan.alert_id == stable_id("alert", "C1", "E1", ruleset.version)
    assert plan.alert == Claim(
        "C1", "alert", plan.alert_id, AT_MS, AT_MS + 10 * DAY_MS, rank=level_rank(level)
    )
    assert plan.signals == ()  # tags have no cooldown slot: the tag set is judged as a whole
    assert plan.tags == TagClaim("C1", "E1", AT_MS, ("everyone",), (), ruleset.version)
    change_id = stable_id("tier", "C1", "E1", ruleset.version)
    assert plan.tier == CompareAndSet(
        "C1",
        "tier",
        f"gold|2|0|{change_id}|mass|{AT_MS}",
        AT_MS,
        TierState("mass", 1, 0, "old", "").encode(),
    )
    assert plan.tier_change is not None and plan.tier_change.previous == "mass"
    assert plan.response is None
    [offer] = plan.offers
    assert offer.offer_event_id == stable_id("offer", "C1", "offer.keep", "E1", ruleset.version)
    assert offer.expires_at == AT + timedelta(days=20)
    claim = offer.claim
    assert (claim.offer_id, claim.offer_event_id, claim.now_ms) == ("offer.keep", offer.offer_event_id, AT_MS)
    assert claim.channels == ("mobile", "call_centre")  # where the customer acted comes first
    assert (claim.cooldown_ms, claim.expires_ms) == (2 * DAY_MS, AT_MS + 20 * DAY_MS)
    assert (claim.group, claim.capacity, claim.reemit_only) == ("offers:E1", 1, False)
    assert (claim.product, claim.strategy, claim.limits) == ("KEEP", "champion", offer_limits(ruleset))


def test_claims_go_out_alert_signals_tier_response_offers_tags_and_replies_come_back_in_that_order() -> None:
    ruleset = small_ruleset()
    plan = gold_plan()
    declined = evaluated(ruleset, {"kind": "offer_declined", "reference": "OE-9"}, event_id="E2")
    answer = plan_claims(declined, ruleset)
    assert answer.alert is None and answer.tier is not None
    assert answer.response == ResponseClaim("C1", "OE-9", "E2", AT_MS, "declined", "")
    assert list(plan.claims()) == [plan.alert, plan.tier, plan.offers[0].claim, plan.tags]
    assert list(answer.claims()) == [answer.tier, answer.response, answer.tags]
    replies = [ClaimReply(True, str(n)) for n in range(7)]
    stream = iter(replies)
    first, second = plan.answers(stream), answer.answers(stream)
    assert first == Answers(replies[0], (), replies[1], None, (replies[2],), replies[3])
    assert second == Answers(None, (), replies[4], replies[5], (), replies[6])
    assert next(stream, None) is None


def test_a_duplicate_may_only_reemit_and_never_moves_the_tier() -> None:
    plan = gold_plan(duplicate=True)
    assert plan.alert is not None and plan.alert.reemit_only
    assert all(s.claim.reemit_only for s in plan.signals)
    assert all(o.claim.reemit_only for o in plan.offers)
    assert plan.tags is not None and plan.tags.reemit_only
    assert plan.tier is None and plan.tier_change is None


def test_a_tier_change_this_trigger_already_made_is_reemitted_without_a_claim() -> None:
    ruleset = small_ruleset()
    change_id = stable_id("tier", "C1", "E1", ruleset.version)
    moved = TierState("gold", 2, 0, change_id, "mass").encode()
    plan = plan_claims(evaluated(ruleset, WITHDRAWAL, stored_tier=moved, duplicate=True), ruleset)
    assert plan.tier is None
    assert plan.tier_change is not None and plan.tier_change.changed_to is not None
    assert plan.tier_change.changed_to.id == "tier.gold"


def test_a_per_field_signal_has_a_slot_and_an_id_per_value() -> None:
    ruleset = small_ruleset()
    item = evaluated(ruleset, {"kind": "login"}, {"complaints_open": 1, "oldest_open_complaint_ref": "CMP-7"})
    service = next(s for s in plan_claims(item, ruleset).signals if s.fired.rule.id == "service.complaint")
    assert service.claim.field == "rule:service.complaint:CMP-7"
    assert service.signal_id == stable_id("signal", "C1", "service.complaint", "CMP-7", "E1", ruleset.version)
    assert service.claim.until_ms == AT_MS + 5 * DAY_MS


def test_offer_limits_are_the_policy_in_milliseconds_computed_once_per_version() -> None:
    ruleset = small_ruleset()
    limits = offer_limits(ruleset)
    assert limits.caps == ((2, 7 * DAY_MS, "mobile"), (3, 30 * DAY_MS, ""))
    assert limits.decline_cooloff_ms == 60 * DAY_MS
    assert limits.fatigue == (2, 30 * DAY_MS, 45 * DAY_MS)
    assert limits.keep_ms == (30 + 45 + 20) * DAY_MS  # fatigue look-back plus the longest offer
    assert offer_limits(ruleset) is limits


def test_only_granted_claims_become_outputs_and_refusals_are_counted() -> None:
    plan = gold_plan()
    metrics = Metrics()
    refused = ClaimReply(False)
    unchanged = ClaimReply(False)  # the tag set as stored
    answers = Answers(ClaimReply(True), (), ClaimReply(True), None, (ClaimReply(False, "cap"),), unchanged)
    outputs = granted_outputs(plan, answers, metrics)
    assert [o.topic for o in outputs] == [CHURN_ALERTS, TIER_CHANGES]
    assert metrics.registry.get_sample_value("signalbank_offers_suppressed_total", {"reason": "cap"}) == 1
    gained = ClaimReply(True, tags=(TagChange("everyone", True, "T1"),))
    answers = Answers(refused, (), refused, None, (ClaimReply(True, "call_centre"),), gained)
    assert [o.topic for o in granted_outputs(plan, answers, metrics)] == [SIGNALS, OFFERS]


def test_a_service_signal_goes_to_the_service_alerts_topic() -> None:
    ruleset = small_ruleset()
    item = evaluated(ruleset, {"kind": "login"}, {"complaints_open": 1, "oldest_open_complaint_ref": "CMP-7"})
    plan = plan_claims(item, ruleset)
    granted = tuple(ClaimReply(True) for _ in plan.signals)
    answers = Answers(None, granted, ClaimReply(False), None, ())
    topics = [o.topic for o in granted_outputs(plan, answers, Metrics())]
    assert topics == [SERVICE_ALERTS]


def test_a_response_is_counted_once_by_offer_and_strategy() -> None:
    ruleset = small_ruleset()
    plan = plan_claims(evaluated(ruleset, {"kind": "offer_accepted", "reference": "OE-9"}), ruleset)
    metrics = Metrics()
    labels = {"offer_id": "offer.keep", "strategy": "champion", "response": "accepted"}

    def answer(reply: ClaimReply) -> Answers:
        return Answers(None, tuple(ClaimReply(False) for _ in plan.signals), ClaimReply(False), reply, ())

    granted_outputs(plan, answer(ClaimReply(True, "offer.keep", True, "champion")), metrics)
    granted_outputs(plan, answer(ClaimReply(True, "offer.keep", False, "champion")), metrics)  # re-delivered
    assert metrics.registry.get_sample_value("signalbank_offer_responses_total", labels) == 1
    granted_outputs(plan, answer(ClaimReply(False)), metrics)
    unknown = {"offer_id": "unknown", "strategy": "unknown", "response": "accepted"}
    assert metrics.registry.get_sample_value("signalbank_offer_responses_total", unknown) == 1


def test_the_timeline_write_comes_last_and_each_note_points_at_the_claim_its_output_needs() -> None:
    ruleset = small_ruleset()
    item = evaluated(ruleset, WITHDRAWAL, {"balance_avg_90d": 5000.0})
    plan = plan_claims(replace(item, event=TimelineEvent(AT_MS, "transaction", "E1", "withdrawal")), ruleset)
    assert plan.timeline is None  # no limits given: no timeline
    plan = plan_claims(
        replace(item, event=TimelineEvent(AT_MS, "transaction", "E1", "withdrawal")),
        ruleset,
        TimelineLimits(7, 9),
    )
    claims = list(plan.claims())
    write = claims[-1]
    assert isinstance(write, TimelineWrite) and write is plan.timeline
    assert (write.max_events, write.max_outputs, write.event) == (
        7,
        9,
        TimelineEvent(AT_MS, "transaction", "E1", "withdrawal"),
    )
    needs = {}
    for note in write.notes:
        claim = claims[len(claims) - 1 - note.back]
        key = note.entry.output_id if isinstance(note, TimelineNote) else "tags"
        needs[key] = claim
    assert plan.tier_change is not None and plan.tier_change.state is not None
    assert needs == {
        plan.alert_id: plan.alert,
        plan.tier_change.state.change_id: plan.tier,
        plan.offers[0].offer_event_id: plan.offers[0].claim,
        "tags": plan.tags,
    }
    kinds = {n.entry.kind: n.entry.topic for n in write.notes if isinstance(n, TimelineNote)}
    assert kinds == {"churn_alert": CHURN_ALERTS, "tier_change": TIER_CHANGES, "offer": OFFERS}
    assert plan.answers(iter([ClaimReply(True)] * len(claims))).tags == ClaimReply(True)
