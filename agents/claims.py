"""The claim step: what each evaluation may emit, the cooldown claims it needs, and what the answers grant.

``plan_claims`` turns one evaluation into a ``ClaimPlan`` whose slots are named (the alert, each
signal, the tier, an offer response, each offer, the tag set, the timeline); the pipeline sends the
claims of a whole batch in one call (sinks/redis/claims.py) and ``ClaimPlan.answers`` takes each
plan's replies back in the same order. ``granted_outputs`` then builds only what was granted,
counting and logging it.

A duplicate (re-delivered after a crash, or sent twice) may only re-emit outputs that were already
decided for it, under the same ids; it never creates new ones.

Risk rules claim their own cooldowns like every signal rule, but all under the id of the trigger's
one risk signal (``risk_id``): the signal holds a reason for each risk rule whose claim was granted.

Tags have no cooldown: every evaluation (event or silence check) sends the tags holding now and
claim.lua compares them with the stored set, so a tag is announced when gained and when lost, and
never while held. The timeline write comes last in a plan: it records the event and each output
whose claim was granted, in the same call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from agents.metrics import Metrics
from agents.outputs import (
    OutputRecord,
    churn_alert,
    customer_signal,
    expiry,
    next_best_offer,
    risk_id,
    risk_signal,
    stable_id,
    tag_change_signal,
    tier_change,
)
from agents.timeline import TimelineLimits
from agents.times import epoch_ms, millis
from agents.trigger import Evaluated, Trigger
from rules.evaluate import tiers
from rules.evaluate.arbitration import Candidate
from rules.evaluate.engine import Evaluation, level_rank
from rules.evaluate.tiers import TierDecision, TierState
from rules.load.fired import Fired
from rules.load.model import RiskRule, ServiceRule, SignalRule, TagRule
from rules.load.ruleset import Ruleset
from schemas.outputs import TierChange
from sinks.redis.claims import (
    AnyClaim,
    Claim,
    ClaimReply,
    CompareAndSet,
    OfferClaim,
    OfferLimits,
    ResponseClaim,
    TagClaim,
    TimelineWrite,
)
from sinks.redis.timeline import TagChangesNote, TimelineNote, TimelineOutput

log = logging.getLogger(__name__)

#: Interaction kinds that answer an offer, and the response they record.
RESPONSES = {"offer_accepted": "accepted", "offer_declined": "declined"}


@dataclass(frozen=True, slots=True)
class SignalSlot:
    """A signal rule that held, the id its signal gets, and the cooldown it must claim."""

    fired: Fired
    signal_id: str
    claim: Claim


@dataclass(frozen=True, slots=True)
class OfferSlot:
    """A ranked offer candidate, the id and expiry its offer gets, and the claim against the offer log."""

    candidate: Candidate
    offer_event_id: str
    expires_at: datetime
    claim: OfferClaim


@dataclass(frozen=True, slots=True)
class Answers:
    """Claim.lua's replies to one plan, slot by slot (None: the plan had no such claim)."""

    alert: ClaimReply | None
    signals: tuple[ClaimReply, ...]
    tier: ClaimReply | None
    response: ClaimReply | None
    offers: tuple[ClaimReply, ...]
    tags: ClaimReply | None = None


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    """What one evaluation may emit, each output with the claim that must be granted first."""

    trigger: Trigger
    evaluation: Evaluation
    ruleset: Ruleset  # the evaluation ran on it: ids carry its version
    alert: Claim | None  # the customer's one alert slot
    signals: tuple[SignalSlot, ...]
    tier: CompareAndSet | None  # the tier's compare-and-set
    tier_change: TierDecision | None  # a tier change to announce (if the tier claim is granted)
    response: ResponseClaim | None  # an offer accepted or declined by this event
    offers: tuple[OfferSlot, ...]  # ranked: the script grants the best the log allows
    tags: TagClaim | None = None  # the tags holding now, judged against the stored set
    timeline: TimelineWrite | None = None  # last: it reads the replies of the claims before it

    @property
    def alert_id(self) -> str:
        """The id of the churn alert this trigger would emit (its claim's output id, when it has one)."""
        if self.alert is not None:
            return self.alert.output_id
        return stable_id("alert", self.trigger.customer_id, self.trigger.event_id, self.ruleset.version)

    def claims(self) -> Iterator[AnyClaim]:
        """The plan's claims in the order claim.lua must see them (a response before the offers it
        may block, the timeline after every claim it records); ``answers`` takes the replies back in
        this same order."""
        yield from self._decisions()
        if self.timeline is not None:
            yield self.timeline

    def _decisions(self) -> Iterator[AnyClaim]:
        if self.alert is not None:
            yield self.alert
        for signal in self.signals:
            yield signal.claim
        if self.tier is not None:
            yield self.tier
        if self.response is not None:
            yield self.response
        for offer in self.offers:
            yield offer.claim
        if self.tags is not None:
            yield self.tags

    def answers(self, replies: Iterator[ClaimReply]) -> Answers:
        """This plan's replies, taken from the batch's ``replies`` in the order of ``claims``."""
        alert = next(replies) if self.alert is not None else None
        signals = tuple(next(replies) for _ in self.signals)
        tier = next(replies) if self.tier is not None else None
        response = next(replies) if self.response is not None else None
        offers = tuple(next(replies) for _ in self.offers)
        tags = next(replies) if self.tags is not None else None
        if self.timeline is not None:
            next(replies)
        return Answers(alert, signals, tier, response, offers, tags)


def plan_claims(evaluated: Evaluated, ruleset: Ruleset, timeline: TimelineLimits | None = None) -> ClaimPlan:
    """Queue cooldown claims for what this evaluation would emit (``timeline``: what the customer's
    timeline keeps; None: no timeline written)."""
    trigger, evaluation, duplicate = evaluated.trigger, evaluated.evaluation, evaluated.duplicate
    customer, ts_ms = trigger.customer_id, trigger.ts_ms
    alert = None
    if evaluation.level is not None:
        # One slot per customer: re-sent when the level rises or the quiet period ended.
        cooldown = _quiet_period(ruleset, evaluation)
        alert = Claim(
            customer,
            "alert",
            stable_id("alert", customer, trigger.event_id, ruleset.version),
            ts_ms,
            ts_ms + millis(cooldown),
            reemit_only=duplicate,
            rank=level_rank(evaluation.level),
        )
    tier, change = _tier_claim(trigger, evaluation, ruleset, duplicate)
    signals = tuple(
        _signal_slot(trigger, evaluation, fired, ruleset.version, duplicate)
        for fired in evaluation.signals
        if not isinstance(fired.rule, TagRule)
    )
    response = _response_claim(trigger, evaluation)
    offers = _offer_slots(trigger, evaluation, ruleset, duplicate)
    tags = _tag_claim(trigger, evaluation, ruleset, duplicate)
    plan = ClaimPlan(trigger, evaluation, ruleset, alert, signals, tier, change, response, offers, tags)
    if timeline is None or not timeline.kept:
        return plan
    write = _timeline_write(plan, evaluated, timeline)  # the same plan with its timeline write last
    return ClaimPlan(
        trigger, evaluation, ruleset, alert, signals, tier, change, response, offers, tags, write
    )


def _tag_claim(
    trigger: Trigger, evaluation: Evaluation, ruleset: Ruleset, duplicate: bool
) -> TagClaim | None:
    """The tags holding now, for claim.lua to compare with the stored set; None without tag rules.
    A tag whose every rule failed to evaluate is not judged (kept as stored, neither gained nor lost)."""
    rules = tag_rules(ruleset)
    if not rules:
        return None
    holding = evaluation.tags
    unjudged: tuple[str, ...] = ()
    if evaluation.errors:
        failed = set(evaluation.errors)
        judged = {fired.rule.tag for fired in rules.values() if fired.rule.id not in failed}  # type: ignore[union-attr]
        unjudged = tuple(sorted(set(rules) - judged - set(holding)))
    return TagClaim(
        trigger.customer_id, trigger.event_id, trigger.ts_ms, holding, unjudged, ruleset.version, duplicate
    )


_TAG_RULES: dict[str, dict[str, Fired]] = {}


def tag_rules(ruleset: Ruleset) -> dict[str, Fired]:
    """Each tag the ruleset defines -> its first rule (computed once per version)."""
    cached = _TAG_RULES.get(ruleset.version)
    if cached is None:
        if len(_TAG_RULES) > 16:
            _TAG_RULES.clear()
        cached = {}
        for fired in ruleset.compiled.signals:
            if isinstance(fired.rule, TagRule):
                cached.setdefault(fired.rule.tag, fired)
        _TAG_RULES[ruleset.version] = cached
    return cached


def _timeline_write(plan: ClaimPlan, evaluated: Evaluated, limits: TimelineLimits) -> TimelineWrite:
    """The event's entry and one note per output the plan may emit, each pointing back at the claim
    that must be granted for it (claim.lua reads that claim's reply in the same call)."""
    trigger, ts = plan.trigger, plan.trigger.ts_ms
    decisions = list(plan._decisions())
    position = {id(claim): len(decisions) - index for index, claim in enumerate(decisions)}
    notes: list[TimelineNote | TagChangesNote] = []
    evaluation = plan.evaluation
    if plan.alert is not None and evaluation.level is not None:
        summary = f"{evaluation.level.value} {evaluation.score:.2f}"
        entry = TimelineOutput(ts, "churn_alert", plan.alert_id, summary)
        notes.append(TimelineNote(position[id(plan.alert)], entry))
    for signal in plan.signals:
        rule = signal.fired.rule
        kind = (
            "service_alert"
            if isinstance(rule, ServiceRule)
            else "risk_signal"
            if isinstance(rule, RiskRule)
            else "signal"
        )
        entry = TimelineOutput(ts, kind, signal.signal_id, f"{rule.kind} {rule.id}")
        notes.append(TimelineNote(position[id(signal.claim)], entry))
    decision = plan.tier_change
    if decision is not None and decision.state is not None:
        summary = f"tier {decision.previous or '-'} -> {decision.state.tier}"
        entry = TimelineOutput(ts, "tier_change", decision.state.change_id, summary)
        notes.append(TimelineNote(0 if plan.tier is None else position[id(plan.tier)], entry))
    for offer in plan.offers:
        summary = f"{offer.candidate.offer.id} {offer.candidate.offer.product}"
        entry = TimelineOutput(ts, "offer", offer.offer_event_id, summary)
        notes.append(TimelineNote(position[id(offer.claim)], entry))
    if plan.tags is not None:
        notes.append(TagChangesNote(position[id(plan.tags)], ts))
    return TimelineWrite(
        trigger.customer_id, ts, limits.events, limits.outputs, evaluated.event, tuple(notes)
    )


def _quiet_period(ruleset: Ruleset, evaluation: Evaluation) -> timedelta:
    """How long an alert keeps the customer from another at the same or a lower level: the churn
    policy's quiet period, else the top reason's cooldown (a level from the rhythm alone: 30 days)."""
    quiet = ruleset.churn_policy.quiet_period
    if quiet is not None:
        return quiet
    return evaluation.fired[0].rule.cooldown if evaluation.fired else timedelta(days=30)


def _signal_slot(
    trigger: Trigger, evaluation: Evaluation, fired: Fired, version: str, duplicate: bool
) -> SignalSlot:
    rule = fired.rule
    per = rule.per_field if isinstance(rule, SignalRule) else None
    # `per`: one cooldown per value of a profile field (e.g. one SLA alert per complaint)
    subject = str(evaluation.context["profile"].get(per, "")) if per else ""
    slot = f"rule:{rule.id}:{subject}" if per else f"rule:{rule.id}"
    parts = (rule.id, subject) if per else (rule.id,)
    if isinstance(rule, RiskRule):  # a reason of the trigger's one risk signal
        signal_id = risk_id(trigger.customer_id, trigger.event_id, version)
    else:
        signal_id = stable_id("signal", trigger.customer_id, *parts, trigger.event_id, version)
    until = trigger.ts_ms + millis(rule.cooldown)
    claim = Claim(trigger.customer_id, slot, signal_id, trigger.ts_ms, until, reemit_only=duplicate)
    return SignalSlot(fired, signal_id, claim)


def _tier_claim(
    trigger: Trigger, evaluation: Evaluation, ruleset: Ruleset, duplicate: bool
) -> tuple[CompareAndSet | None, TierDecision | None]:
    """The compare-and-set of the customer's tier and the change it announces, or the change this
    trigger already made (re-emitted without a claim)."""
    current = TierState.decode(trigger.stored_tier)
    change_id = stable_id("tier", trigger.customer_id, trigger.event_id, ruleset.version)
    if current is not None and current.change_id == change_id:
        # this trigger already moved the tier (then crashed, or Redis failed after the write)
        rule = next((t for t in ruleset.tiers if t.tier == current.tier), None)
        return None, TierDecision(current, rule, current.previous or None)
    if duplicate:
        return None, None
    decision = tiers.decide(ruleset, evaluation, current, trigger.ts_ms, change_id)
    if decision.state is None:
        return None, None
    claim = CompareAndSet(
        trigger.customer_id, tiers.FIELD, decision.state.encode(), trigger.ts_ms, trigger.stored_tier
    )
    return claim, decision if decision.changed_to is not None else None


def _response_claim(trigger: Trigger, evaluation: Evaluation) -> ResponseClaim | None:
    """An offer response is claimed for re-delivered events too: the script recognises it by its
    event id and reports it as already recorded, so conversion metrics count it once."""
    event = evaluation.context["event"]
    response = RESPONSES.get(event.get("kind", ""))
    if response is None:
        return None
    reference, product = str(event.get("reference", "")), str(event.get("product", ""))
    return ResponseClaim(trigger.customer_id, reference, trigger.event_id, trigger.ts_ms, response, product)


def _offer_slots(
    trigger: Trigger, evaluation: Evaluation, ruleset: Ruleset, duplicate: bool
) -> tuple[OfferSlot, ...]:
    """The ranked offers; the Lua script grants the best ones the offer log allows."""
    if not evaluation.candidates:
        return ()
    customer, ts_ms = trigger.customer_id, trigger.ts_ms
    limits = offer_limits(ruleset)
    group = f"offers:{trigger.event_id}"
    capacity = ruleset.contact_policy.max_offers_per_event
    slots = []
    for candidate in evaluation.candidates:
        offer = candidate.offer
        offer_event_id = stable_id("offer", customer, offer.id, trigger.event_id, ruleset.version)
        preferred = [trigger.channel] if trigger.channel in offer.channels else []
        channels = tuple(dict.fromkeys([*preferred, *offer.channels]))
        expires = expiry(trigger.occurred_at, offer.valid_for, offer.valid_until)
        claim = OfferClaim(
            customer,
            offer.id,
            offer_event_id,
            ts_ms,
            millis(offer.cooldown),
            channels,
            epoch_ms(expires),
            evaluation.strategy,
            offer.product,
            limits,
            group,
            capacity,
            duplicate,
        )
        slots.append(OfferSlot(candidate, offer_event_id, expires, claim))
    return tuple(slots)


_LIMITS: dict[str, OfferLimits] = {}


def offer_limits(ruleset: Ruleset) -> OfferLimits:
    """Caps, cool-offs and how long the offer log must remember an offer (computed once per version)."""
    cached = _LIMITS.get(ruleset.version)
    if cached is None:
        if len(_LIMITS) > 16:
            _LIMITS.clear()
        cached = _LIMITS[ruleset.version] = _limits(ruleset)
    return cached


def _limits(ruleset: Ruleset) -> OfferLimits:
    policy = ruleset.contact_policy
    fatigue = policy.fatigue
    longest_offer = max((max(o.cooldown, o.valid_for) for o in ruleset.offers), default=timedelta(0))
    keep = max(
        [
            *(cap.period for cap in policy.caps),
            policy.decline_cooloff,
            fatigue.within + fatigue.cooloff + longest_offer,
            longest_offer,
        ]
    )
    return OfferLimits(
        caps=tuple((cap.count, millis(cap.period), cap.channel or "") for cap in policy.caps),
        decline_cooloff_ms=millis(policy.decline_cooloff),
        fatigue=(fatigue.negatives, millis(fatigue.within), millis(fatigue.cooloff)),
        keep_ms=millis(keep),
    )


def granted_outputs(plan: ClaimPlan, answers: Answers, metrics: Metrics) -> list[OutputRecord]:
    """The outputs whose claims were granted (alert, signals, tier change, offers), counted and logged."""
    trigger, evaluation = plan.trigger, plan.evaluation
    outputs: list[OutputRecord] = []
    if plan.response is not None and answers.response is not None:
        _count_response(trigger, plan.response.response, answers.response, metrics)
    if answers.alert is not None and answers.alert.granted and evaluation.level is not None:
        record = churn_alert(trigger, evaluation, plan.alert_id, plan.ruleset.version)
        metrics.alerts.labels(evaluation.level.value).inc()
        log.info(
            "churn alert %s customer=%s event=%s level=%s rules=%s",
            plan.alert_id,
            trigger.customer_id,
            trigger.event_id,
            evaluation.level.value,
            ",".join(f.rule.id for f in evaluation.fired),
        )
        outputs.append(record)
    risks: list[SignalSlot] = []
    for signal, reply in zip(plan.signals, answers.signals, strict=True):
        if reply.granted:
            rule = signal.fired.rule
            metrics.signals.labels(rule.kind, rule.id).inc()
            if isinstance(rule, RiskRule):
                risks.append(signal)
                continue
            record = customer_signal(
                trigger, signal.fired, signal.signal_id, evaluation, plan.ruleset.version
            )
            log.info(
                "%s signal %s customer=%s rule=%s", rule.kind, signal.signal_id, trigger.customer_id, rule.id
            )
            outputs.append(record)
    if risks:
        signal_id = risks[0].signal_id
        fired = [slot.fired for slot in risks]
        outputs.append(risk_signal(trigger, fired, signal_id, evaluation, plan.ruleset.version))
        log.info(
            "risk signal %s customer=%s rules=%s",
            signal_id,
            trigger.customer_id,
            ",".join(f.rule.id for f in fired),
        )
    if answers.tags is not None:
        outputs.extend(_tag_outputs(plan, answers.tags, metrics))
    if plan.tier_change is not None and (answers.tier is None or answers.tier.granted):
        outputs.append(_tier_output(plan, plan.tier_change, metrics))
    for offer, reply in zip(plan.offers, answers.offers, strict=True):
        if reply.granted:
            outputs.append(_offer_output(plan, offer, reply, metrics))
            continue
        metrics.offers_suppressed.labels(reply.detail).inc()
        log.debug(
            "offer %s customer=%s event=%s not made: %s",
            offer.candidate.offer.id,
            trigger.customer_id,
            trigger.event_id,
            reply.detail,
        )
    return outputs


def _tag_outputs(plan: ClaimPlan, reply: ClaimReply, metrics: Metrics) -> list[OutputRecord]:
    """One signal per tag gained or lost, under the id claim.lua gave it (re-emitted alike)."""
    trigger, evaluation = plan.trigger, plan.evaluation
    rules = tag_rules(plan.ruleset)
    outputs = []
    for change in reply.tags:
        fired = next((f for f in evaluation.signals if getattr(f.rule, "tag", None) == change.tag), None)
        fired = fired or rules.get(change.tag)
        outputs.append(
            tag_change_signal(
                trigger, fired, change.tag, change.gained, change.signal_id, evaluation, plan.ruleset.version
            )
        )
        rule_id = fired.rule.id if fired is not None else ""
        if reply.new:
            metrics.signals.labels("tag", rule_id).inc()
        log.info(
            "tag %s signal %s customer=%s tag=%s%s",
            "gained" if change.gained else "lost",
            change.signal_id,
            trigger.customer_id,
            change.tag,
            "" if reply.new else " (re-emitted)",
        )
    return outputs


def _tier_output(plan: ClaimPlan, decision: TierDecision, metrics: Metrics) -> OutputRecord:
    record = tier_change(plan.trigger, decision, plan.evaluation, plan.ruleset)
    assert record is not None  # only called for decisions that change the tier
    change = record.value
    assert isinstance(change, TierChange)
    metrics.tier_changes.labels(change.new_tier, change.direction).inc()
    log.info(
        "tier change %s customer=%s %s -> %s",
        change.change_id,
        plan.trigger.customer_id,
        change.old_tier,
        change.new_tier,
    )
    return record


def _offer_output(plan: ClaimPlan, slot: OfferSlot, reply: ClaimReply, metrics: Metrics) -> OutputRecord:
    trigger, offer, strategy = plan.trigger, slot.candidate.offer, plan.evaluation.strategy
    channel = reply.detail  # one of the offer's channels: the script picked it
    record = next_best_offer(
        trigger,
        plan.evaluation,
        slot.candidate,
        slot.offer_event_id,
        slot.expires_at,
        channel,
        plan.ruleset.version,
    )
    if reply.new:  # a re-emitted offer was already counted as presented
        metrics.offers.labels(offer.id, strategy).inc()
    log.info(
        "offer %s customer=%s event=%s offer=%s strategy=%s channel=%s%s",
        slot.offer_event_id,
        trigger.customer_id,
        trigger.event_id,
        offer.id,
        strategy,
        channel,
        "" if reply.new else " (re-emitted)",
    )
    return record


def _count_response(trigger: Trigger, response: str, reply: ClaimReply, metrics: Metrics) -> None:
    """Count an accepted or declined offer once, by offer and strategy (conversion metrics)."""
    customer, event_id = trigger.customer_id, trigger.event_id
    if not reply.granted:
        metrics.offer_responses.labels("unknown", "unknown", response).inc()
        log.info("offer response %s customer=%s matches no offer made", event_id, customer)
        return
    if reply.new:
        metrics.offer_responses.labels(reply.detail, reply.strategy, response).inc()
        log.info(
            "offer %s %s customer=%s event=%s strategy=%s",
            reply.detail,
            response,
            customer,
            event_id,
            reply.strategy,
        )
