"""The batch pipeline: decode, update profiles, evaluate rules, claim cooldowns, build outputs.

It knows nothing about Faust: the worker's agent feeds it consumed records and sends what it
returns, and replay or tests can drive it directly. Redis round trips per batch: one per chunk of
profile updates (the next chunk is applied while rules run on the previous one), one schedules each
customer's next silence check, one claims every cooldown (churn alerts, signals, offers).

Silence is a signal: a customer who stops transacting sends no events, so nothing would evaluate
them again. ``check`` re-evaluates customers as of a given time with no event, through the same
cooldown claims as events; a timer (or, in replay, the event-time watermark) drives it with the
customers whose check is due. Time is always a parameter here, never read from a hidden clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel

from agents.decode import RawRecord, decode, utc_now
from agents.metrics import Metrics
from agents.offer_limits import offer_limits
from rules.evaluate import tiers
from rules.evaluate.arbitration import Candidate
from rules.evaluate.engine import Evaluation, evaluate, level_rank
from rules.evaluate.fired import Fired, evidence, render
from rules.evaluate.tiers import TierDecision, TierState
from rules.load.model import RiskRule, ServiceRule, SignalRule, TagRule
from rules.load.ruleset import Ruleset
from schemas.catalog import CHURN_ALERTS, DEAD_LETTERS, OFFERS, SERVICE_ALERTS, SIGNALS, TIER_CHANGES
from schemas.inputs import InputEvent
from schemas.outputs import (
    ChurnAlert,
    CustomerSignal,
    DeadLetter,
    NextBestOffer,
    Reason,
    SignalKind,
    TierChange,
)
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.delta import MS_PER_DAY, ProfileUpdate, build_update
from schemas.profile.view import build_event_context, build_profile, neutral_event
from sinks.redis.claims import AnyClaim, Claim, ClaimReply, OfferClaim, ResponseClaim
from sinks.redis.keys import kafka_position
from sinks.redis.store import ProfileStore, StoredProfile

log = logging.getLogger(__name__)

#: Event-loop turns redis-py needs to take a pooled connection and write a command (two measured,
#: one spare). With fewer, the next chunk's call goes out only at the next ``await``: still correct,
#: but Redis then works while Python waits instead of alongside it.
_SEND_TURNS = 3


@dataclass(frozen=True, slots=True)
class OutputRecord:
    topic: str
    key: bytes
    value: BaseModel

    def encoded(self) -> bytes:
        return self.value.model_dump_json().encode()


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """What the pipeline needs from the settings (the check defaults are the settings' defaults)."""

    home_bank: str
    max_future: timedelta
    check_after: timedelta = timedelta(days=1)  # quiet time before a check, then the re-check period
    check_grace: timedelta = timedelta(hours=1)  # first check no sooner after processing an event
    quiet_cap: timedelta = timedelta(days=400)  # quiet longer: no more checks until the next event
    churn_model: BgNbdParams | None = None  # fitted BG/NBD parameters behind profile.p_alive
    apply_chunk: int = 100  # profile updates per Redis call; the next chunk overlaps this one's rules


def stable_id(*parts: str) -> str:
    """Deterministic output id: the same inputs always give the same id (dedupe after replays)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Trigger:
    """What made the rules run: an input event, or a silence check with no event."""

    customer_id: str
    event_id: str
    ts_ms: int
    occurred_at: datetime
    channel: str  # where the customer acted; "" for master data and silence checks
    stored_tier: str = ""  # the customer's tier state as read with the profile (compare-and-set base)

    @classmethod
    def of(cls, event: InputEvent, ts_ms: int, stored_tier: str = "") -> Trigger:
        channel = str(getattr(event, "channel", ""))
        return cls(event.customer_id, event.event_id, ts_ms, event.occurred_at, channel, stored_tier)


@dataclass(frozen=True, slots=True)
class DueChecks:
    """Customers taken for a silence check, hidden from other takers until ``leased_until_ms``."""

    customer_ids: tuple[str, ...]
    leased_until_ms: int


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outputs of silence checks, and each customer's next check (None: leaves the schedule)."""

    outputs: list[OutputRecord]
    next_checks: dict[str, int | None]


def check_id(last_activity_ms: int, now_ms: int, check_after: timedelta) -> str:
    """Id of the check made at ``now_ms``: ``check:<date>`` of the last whole check period since
    the latest activity. A check retried within its period (after a crash, or by another worker)
    gets the same id, so its outputs get the same ids and the cooldown claims re-grant them.
    """
    every = _millis(check_after)
    anchor = last_activity_ms + max(0, (now_ms - last_activity_ms) // every) * every
    return f"check:{datetime.fromtimestamp(anchor / 1000, tz=UTC):%Y-%m-%d}"


@dataclass(slots=True)
class _Decided:
    trigger: Trigger
    evaluation: Evaluation
    ruleset: Ruleset
    alert_id: str
    alert_claim: int | None = None
    signal_claims: list[tuple[int, Fired, str]] = field(default_factory=list)  # (claim, rule, signal id)
    offer_claims: list[tuple[int, str]] = field(default_factory=list)  # (claim index, offer event id)
    response_claim: int | None = None  # claim index of an offer response (accepted / declined)
    tier_claim: int | None = None  # claim index of the tier compare-and-set
    tier_change: TierDecision | None = None  # a tier change to announce (if its claim is granted)


class Pipeline:
    """Processes batches of raw records into output records, idempotently."""

    def __init__(
        self,
        store: ProfileStore,
        ruleset: Callable[[], Ruleset],
        metrics: Metrics,
        config: PipelineConfig,
        clock: Callable[[], datetime] = utc_now,
        observe: Callable[[Trigger, Evaluation], None] | None = None,
        committed: Callable[[], str] | None = None,
    ) -> None:
        """``observe`` sees every evaluation before cooldowns (replay scores rules with it).

        ``committed``: for records read from Kafka, the consumer group's committed offsets
        (``CommittedOffsets.packed``); profiles then keep each event's position until it is
        committed. Without it (replays, tests) records' offsets are not Kafka's and are not kept.
        """
        self._observe = observe
        self._committed = committed
        self._store = store
        self._ruleset = ruleset
        self._metrics = metrics
        self._config = config
        self._clock = clock

    async def process(self, records: Sequence[RawRecord], retry: bool = False) -> list[OutputRecord]:
        """Return the outputs for ``records`` in input order (dead letters included).

        ``retry``: the same batch failed before (Redis went away mid-batch). Its profile updates may
        have been applied while its cooldown claims were not, so events found already applied are
        not treated as re-deliveries: their outputs may still be claimed (under the same ids).
        Metrics are counted only once the batch has gone through, so a retry does not count twice.
        """
        now = self._clock()
        outputs: list[OutputRecord] = []
        events: list[tuple[RawRecord, InputEvent]] = []
        dead: list[tuple[str, str]] = []
        for record in records:
            result = decode(record, now, self._config.max_future)
            if isinstance(result, DeadLetter):
                dead.append((record.topic, result.reason.value))
                log.info(
                    "dead letter from %s/%d@%d: %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    result.reason.value,
                )
                outputs.append(OutputRecord(DEAD_LETTERS, record.key or b"", result))
            else:
                events.append((record, result))
        if events:
            outputs.extend(await self._process_events(events, now, retry))
        self._metrics.batch_size.observe(len(records))
        for topic, reason in dead:
            self._metrics.events.labels(topic, "dead_letter").inc()
            self._metrics.dead_letters.labels(topic, reason).inc()
        return outputs

    async def _process_events(
        self, events: list[tuple[RawRecord, InputEvent]], now: datetime, retry: bool = False
    ) -> list[OutputRecord]:
        home_bank, from_kafka = self._config.home_bank, self._committed is not None
        updates = [
            build_update(
                event,
                home_bank,
                kafka_position(record.topic, record.partition, record.offset) if from_kafka else "",
            )
            for record, event in events
        ]
        ruleset = self._ruleset()
        evaluated: list[tuple[Trigger, Evaluation, bool]] = []
        latest: dict[str, int] = {}  # customer -> latest activity (event time, ms)
        outcomes: list[tuple[str, str]] = []
        model = self._config.churn_model
        async with contextlib.aclosing(self._apply_in_chunks(updates)) as chunks:
            async for start, stored in chunks:
                end = start + len(stored)
                for (record, event), update, result in zip(
                    events[start:end], updates[start:end], stored, strict=True
                ):
                    duplicate = result.duplicate and not retry
                    outcomes.append((record.topic, "duplicate" if duplicate else "processed"))
                    self._metrics.event_lag.observe(max(0.0, (now - event.occurred_at).total_seconds()))
                    profile_now = max(update.ts_ms, int(result.state.get("last_ts", update.ts_ms)))
                    latest[event.customer_id] = max(latest.get(event.customer_id, 0), profile_now)
                    profile = build_profile(
                        event.customer_id, result.state, result.sums, profile_now, model, result.active_days
                    )
                    context = build_event_context(event, self._config.home_bank)
                    trigger = Trigger.of(event, update.ts_ms, result.state.get(tiers.FIELD, ""))
                    evaluation = evaluate(ruleset, profile, context, event.occurred_at.date())
                    evaluated.append((trigger, evaluation, duplicate))
        await self._schedule(latest, now)
        outputs = await self.decide(evaluated, ruleset)
        for (topic, outcome), count in Counter(outcomes).items():  # one labelled update per kind
            self._metrics.events.labels(topic, outcome).inc(count)
        return outputs

    async def _apply_in_chunks(
        self, updates: Sequence[ProfileUpdate]
    ) -> AsyncGenerator[tuple[int, list[StoredProfile]]]:
        """Apply ``updates`` in order, ``apply_chunk`` per Redis call; yield (offset, profiles) per chunk.

        The call for the next chunk is sent as soon as the previous one has answered, before the
        caller works on that answer: Redis runs the next chunk's script on its own core while this
        one evaluates rules. The calls never overlap each other, so updates apply in order.
        """
        size = self._config.apply_chunk
        starts = range(0, len(updates), size)
        pending = asyncio.ensure_future(self._apply(updates[:size]))
        try:
            for start in starts:
                stored = await pending
                following = start + size
                if following < len(updates):
                    pending = asyncio.ensure_future(self._apply(updates[following : following + size]))
                    # let that call go out before the caller's work holds the loop
                    for _ in range(_SEND_TURNS):
                        await asyncio.sleep(0)
                yield start, stored
        finally:
            if not pending.done():
                pending.cancel()  # the caller failed: the batch is retried whole, as after any failure

    async def _apply(self, updates: Sequence[ProfileUpdate]) -> list[StoredProfile]:
        started = time.perf_counter()
        stored = await self._store.apply(updates, "" if self._committed is None else self._committed())
        self._metrics.redis.labels("profile_update").observe(time.perf_counter() - started)
        return stored

    async def _schedule(self, latest: dict[str, int], now: datetime) -> None:
        """Check each customer one check period after its latest activity, in one round trip.

        Never sooner than the grace after ``now`` (processing time): a customer whose events arrive
        late, from a backlog, is not judged silent before the rest of the backlog is in. A check
        is only ever moved later, and customers quiet past the cap are not scheduled.
        """
        earliest = _ms(now) + _millis(self._config.check_grace)
        every, cap = _millis(self._config.check_after), _millis(self._config.quiet_cap)
        due = {c: max(last + every, earliest) for c, last in latest.items()}
        due = {c: at for c, at in due.items() if at - latest[c] <= cap}
        started = time.perf_counter()
        await self._store.schedule(due)
        self._metrics.redis.labels("schedule").observe(time.perf_counter() - started)

    async def take_due(self, now: datetime, limit: int, lease: timedelta) -> DueChecks:
        """Take up to ``limit`` customers whose check is due by ``now``, leased for ``lease``."""
        leased_until = _ms(now) + _millis(lease)
        started = time.perf_counter()
        taken = await self._store.take_due(_ms(now), limit, leased_until)
        self._metrics.redis.labels("take_due").observe(time.perf_counter() - started)
        return DueChecks(tuple(taken), leased_until)

    async def check(self, customer_ids: Sequence[str], now: datetime) -> CheckResult:
        """Re-evaluate customers as of ``now`` with no event: silence is a signal.

        Profiles are read as of ``now`` in one round trip and evaluated with a neutral "check"
        event, then go through the same cooldown claims as events (with ``now`` as the trigger
        time), so cooldowns, level rises and deterministic ids behave exactly as for events.
        Customers with no profile left get no next check; the others get the next whole check
        period after their latest activity, unless that is past the quiet cap.
        """
        now_ms = _ms(now)
        started = time.perf_counter()
        stored = await self._store.read_many(customer_ids, now_ms)
        self._metrics.redis.labels("profile_read").observe(time.perf_counter() - started)
        ruleset = self._ruleset()
        every, cap = _millis(self._config.check_after), _millis(self._config.quiet_cap)
        evaluated: list[tuple[Trigger, Evaluation, bool]] = []
        next_checks: dict[str, int | None] = {}
        for customer_id, result in zip(customer_ids, stored, strict=True):
            if "last_ts" not in result.state:
                log.info("customer=%s has no profile left: leaves the silence schedule", customer_id)
                next_checks[customer_id] = None
                continue
            last = int(result.state["last_ts"])
            check = check_id(last, now_ms, self._config.check_after)
            profile = build_profile(
                customer_id, result.state, result.sums, now_ms, self._config.churn_model, result.active_days
            )
            evaluation = evaluate(ruleset, profile, neutral_event("check", check), now.date())
            stored_tier = result.state.get(tiers.FIELD, "")
            evaluated.append((Trigger(customer_id, check, now_ms, now, "", stored_tier), evaluation, False))
            following = last + (max(0, (now_ms - last) // every) + 1) * every
            if following - last > cap:
                log.info(
                    "customer=%s check=%s quiet for %d days: last check until its next event",
                    customer_id,
                    check,
                    (now_ms - last) // MS_PER_DAY,
                )
                next_checks[customer_id] = None
            else:
                next_checks[customer_id] = following
        outputs = await self.decide(evaluated, ruleset)
        log.debug("silence checks as of %s: %d customers, %d outputs", now, len(customer_ids), len(outputs))
        return CheckResult(outputs, next_checks)

    async def settle(self, result: CheckResult, leased_until_ms: int) -> None:
        """After the outputs of checks taken with ``leased_until_ms`` were delivered: reschedule."""
        started = time.perf_counter()
        await self._store.settle(result.next_checks, leased_until_ms)
        self._metrics.redis.labels("settle").observe(time.perf_counter() - started)

    async def decide(
        self, evaluated: Sequence[tuple[Trigger, Evaluation, bool]], ruleset: Ruleset
    ) -> list[OutputRecord]:
        """Claim cooldowns for every evaluation in one round trip and build the outputs granted."""
        if self._observe is not None:
            for trigger, evaluation, duplicate in evaluated:
                if not duplicate:
                    self._observe(trigger, evaluation)
        claims: list[AnyClaim] = []
        decided = [
            self._claims_for(trigger, evaluation, ruleset, claims, duplicate)
            for trigger, evaluation, duplicate in evaluated
        ]
        granted = await self._claim(claims)
        outputs: list[OutputRecord] = []
        for item in decided:
            outputs.extend(self._outputs(item, granted))
        return outputs

    def _claims_for(
        self,
        trigger: Trigger,
        evaluation: Evaluation,
        ruleset: Ruleset,
        claims: list[AnyClaim],
        duplicate: bool,
    ) -> _Decided:
        """Queue cooldown claims for what this evaluation would emit.

        A duplicate (re-delivered after a crash, or sent twice) may only re-emit outputs that were
        already decided for it, under the same ids; it never creates new ones.
        """
        for rule_id in evaluation.errors:
            self._metrics.rule_errors.labels(rule_id).inc()
        for reason in evaluation.suppressed:
            self._metrics.offers_suppressed.labels(reason[1]).inc()
        customer, ts_ms = trigger.customer_id, trigger.ts_ms
        alert_id = stable_id("alert", customer, trigger.event_id, ruleset.version)
        item = _Decided(trigger, evaluation, ruleset, alert_id)
        for fired in (*evaluation.fired, *evaluation.signals):
            self._metrics.rules_fired.labels(fired.rule.id).inc()
        if evaluation.level is not None and evaluation.fired:
            # One slot per customer: re-sent when the level rises or the top reason's cooldown ended.
            cooldown = evaluation.fired[0].rule.cooldown
            item.alert_claim = len(claims)
            claims.append(
                Claim(
                    customer,
                    "alert",
                    alert_id,
                    ts_ms,
                    ts_ms + _millis(cooldown),
                    reemit_only=duplicate,
                    rank=level_rank(evaluation.level),
                )
            )
        for fired in evaluation.signals:
            rule = fired.rule
            per = rule.per_field if isinstance(rule, SignalRule) else None
            # `per`: one cooldown per value of a profile field (e.g. one SLA alert per complaint)
            subject = str(evaluation.context["profile"].get(per, "")) if per else ""
            slot = f"rule:{rule.id}:{subject}" if per else f"rule:{rule.id}"
            parts = (rule.id, subject) if per else (rule.id,)
            signal_id = stable_id("signal", customer, *parts, trigger.event_id, ruleset.version)
            item.signal_claims.append((len(claims), fired, signal_id))
            until = ts_ms + _millis(rule.cooldown)
            claims.append(Claim(customer, slot, signal_id, ts_ms, until, reemit_only=duplicate))
        self._tier_claim(item, claims, duplicate)
        self._offer_claims(item, claims, duplicate)
        return item

    def _offer_claims(self, item: _Decided, claims: list[AnyClaim], duplicate: bool) -> None:
        """Queue the ranked offers (the Lua script grants the best the log allows) and any response.

        A response is queued for re-delivered events too: the script recognises it by its event id
        and reports it as already recorded, so conversion metrics count it once.
        """
        trigger, evaluation, ruleset = item.trigger, item.evaluation, item.ruleset
        customer, ts_ms = trigger.customer_id, trigger.ts_ms
        event = evaluation.context["event"]
        if event.get("kind") in RESPONSES:
            item.response_claim = len(claims)
            response = RESPONSES[event["kind"]]
            reference, product = str(event.get("reference", "")), str(event.get("product", ""))
            claims.append(ResponseClaim(customer, reference, trigger.event_id, ts_ms, response, product))
        limits = offer_limits(ruleset)
        group = f"offers:{trigger.event_id}"
        capacity = ruleset.contact_policy.max_offers_per_event
        for candidate in evaluation.candidates:
            offer = candidate.offer
            offer_event_id = stable_id("offer", customer, offer.id, trigger.event_id, ruleset.version)
            preferred = [trigger.channel] if trigger.channel in offer.channels else []
            channels = tuple(dict.fromkeys([*preferred, *offer.channels]))
            expires = _expiry(trigger.occurred_at, offer.valid_for, offer.valid_until)
            item.offer_claims.append((len(claims), offer_event_id))
            claims.append(
                OfferClaim(
                    customer,
                    offer.id,
                    offer_event_id,
                    ts_ms,
                    _millis(offer.cooldown),
                    channels,
                    _ms(expires),
                    evaluation.strategy,
                    offer.product,
                    limits,
                    group,
                    capacity,
                    duplicate,
                )
            )

    def _tier_claim(self, item: _Decided, claims: list[AnyClaim], duplicate: bool) -> None:
        """Queue the compare-and-set of the customer's tier, or re-emit a change this trigger made."""
        trigger, ruleset = item.trigger, item.ruleset
        current = TierState.decode(trigger.stored_tier)
        change_id = stable_id("tier", trigger.customer_id, trigger.event_id, ruleset.version)
        if current is not None and current.change_id == change_id:
            # this trigger already moved the tier (then crashed, or Redis failed after the write)
            rule = next((t for t in ruleset.tiers if t.tier == current.tier), None)
            item.tier_change = TierDecision(current, rule, current.previous or None)
            return
        if duplicate:
            return
        decision = tiers.decide(ruleset, item.evaluation, current, trigger.ts_ms, change_id)
        if decision.state is None:
            return
        item.tier_claim = len(claims)
        item.tier_change = decision if decision.changed_to is not None else None
        claims.append(
            Claim(
                trigger.customer_id,
                tiers.FIELD,
                decision.state.encode(),
                trigger.ts_ms,
                0,
                expected=trigger.stored_tier,
            )
        )

    async def _claim(self, claims: list[AnyClaim]) -> list[ClaimReply]:
        if not claims:
            return []
        started = time.perf_counter()
        granted = await self._store.claim(claims)
        self._metrics.redis.labels("claim").observe(time.perf_counter() - started)
        return granted

    def _outputs(self, item: _Decided, replies: list[ClaimReply]) -> list[OutputRecord]:
        trigger, evaluation, ruleset = item.trigger, item.evaluation, item.ruleset
        key = trigger.customer_id.encode()
        context = evaluation.context
        granted = [r.granted for r in replies]
        outputs: list[OutputRecord] = []
        self._response(item, replies)
        if item.alert_claim is not None and granted[item.alert_claim] and evaluation.level is not None:
            alert = ChurnAlert(
                alert_id=item.alert_id,
                customer_id=trigger.customer_id,
                score=evaluation.score,
                level=evaluation.level,
                reasons=[
                    Reason(
                        rule_id=f.rule.id,
                        message=f.message(context),
                        weight=f.rule.weight,  # type: ignore[union-attr]
                        evidence=f.evidence(context),
                    )
                    for f in evaluation.fired
                ],
                suggested_action=evaluation.suggested_action,
                trigger_event_id=trigger.event_id,
                occurred_at=trigger.occurred_at,
                ruleset_version=ruleset.version,
            )
            self._metrics.alerts.labels(alert.level.value).inc()
            log.info(
                "churn alert %s customer=%s event=%s level=%s rules=%s",
                alert.alert_id,
                trigger.customer_id,
                trigger.event_id,
                alert.level.value,
                ",".join(r.rule_id for r in alert.reasons),
            )
            outputs.append(OutputRecord(CHURN_ALERTS, key, alert))
        for index, fired, signal_id in item.signal_claims:
            if granted[index]:
                outputs.append(self._signal(trigger, fired, signal_id, evaluation, ruleset))
        tier_granted = item.tier_claim is None or granted[item.tier_claim]
        if item.tier_change is not None and tier_granted:
            outputs.append(self._tier_change(trigger, item.tier_change, evaluation, ruleset))
        for candidate, (index, offer_event_id) in zip(evaluation.candidates, item.offer_claims, strict=True):
            reply = replies[index]
            if not reply.granted:
                self._metrics.offers_suppressed.labels(reply.detail).inc()
                log.debug(
                    "offer %s customer=%s event=%s not made: %s",
                    candidate.offer.id,
                    trigger.customer_id,
                    trigger.event_id,
                    reply.detail,
                )
                continue
            outputs.append(self._offer(item, candidate, offer_event_id, reply))
        return outputs

    def _offer(
        self, item: _Decided, candidate: Candidate, offer_event_id: str, reply: ClaimReply
    ) -> OutputRecord:
        trigger, evaluation, offer = item.trigger, item.evaluation, candidate.offer
        nbo = NextBestOffer(
            offer_event_id=offer_event_id,
            customer_id=trigger.customer_id,
            offer_id=offer.id,
            product=offer.product,
            category=offer.category,
            score=candidate.score,
            propensity=round(candidate.propensity, 6),
            channel=reply.detail,  # one of the offer's channels: the script picked it
            reasons=[render(offer.reason, evaluation.context), offer.description],
            trigger_event_id=trigger.event_id,
            occurred_at=trigger.occurred_at,
            expires_at=_expiry(trigger.occurred_at, offer.valid_for, offer.valid_until),
            ruleset_version=item.ruleset.version,
            strategy=evaluation.strategy,
        )
        if reply.new:  # a re-emitted offer was already counted as presented
            self._metrics.offers.labels(offer.id, nbo.strategy).inc()
        log.info(
            "offer %s customer=%s event=%s offer=%s strategy=%s channel=%s%s",
            nbo.offer_event_id,
            trigger.customer_id,
            trigger.event_id,
            offer.id,
            nbo.strategy,
            nbo.channel,
            "" if reply.new else " (re-emitted)",
        )
        return OutputRecord(OFFERS, trigger.customer_id.encode(), nbo)

    def _response(self, item: _Decided, replies: list[ClaimReply]) -> None:
        """Count an accepted or declined offer once, by offer and strategy (conversion metrics)."""
        if item.response_claim is None:
            return
        reply = replies[item.response_claim]
        event = item.evaluation.context["event"]
        response = RESPONSES[event["kind"]]
        customer, event_id = item.trigger.customer_id, item.trigger.event_id
        if not reply.granted:
            self._metrics.offer_responses.labels("unknown", "unknown", response).inc()
            log.info("offer response %s customer=%s matches no offer made", event_id, customer)
            return
        if reply.new:
            self._metrics.offer_responses.labels(reply.detail, reply.strategy, response).inc()
            log.info(
                "offer %s %s customer=%s event=%s strategy=%s",
                reply.detail,
                response,
                customer,
                event_id,
                reply.strategy,
            )

    def _tier_change(
        self, trigger: Trigger, decision: TierDecision, evaluation: Evaluation, ruleset: Ruleset
    ) -> OutputRecord:
        change = _tier_output(trigger, decision, evaluation, ruleset)
        assert change is not None  # only called for decisions that change the tier
        self._metrics.tier_changes.labels(change.new_tier, change.direction).inc()
        log.info(
            "tier change %s customer=%s %s -> %s",
            change.change_id,
            trigger.customer_id,
            change.old_tier,
            change.new_tier,
        )
        return OutputRecord(TIER_CHANGES, trigger.customer_id.encode(), change)

    def _signal(
        self, trigger: Trigger, fired: Fired, signal_id: str, evaluation: Evaluation, ruleset: Ruleset
    ) -> OutputRecord:
        rule = fired.rule
        kind = SignalKind(rule.kind)
        signal = CustomerSignal(
            signal_id=signal_id,
            customer_id=trigger.customer_id,
            kind=kind,
            rule_id=rule.id,
            tag=rule.tag if isinstance(rule, TagRule) else None,
            severity=rule.severity if isinstance(rule, RiskRule | ServiceRule) else None,
            message=fired.message(evaluation.context),
            action=getattr(rule, "action", ""),
            evidence=fired.evidence(evaluation.context),
            trigger_event_id=trigger.event_id,
            occurred_at=trigger.occurred_at,
            ruleset_version=ruleset.version,
        )
        self._metrics.signals.labels(kind.value, rule.id).inc()
        log.info("%s signal %s customer=%s rule=%s", kind.value, signal_id, trigger.customer_id, rule.id)
        topic = SERVICE_ALERTS if kind is SignalKind.SERVICE else SIGNALS
        return OutputRecord(topic, trigger.customer_id.encode(), signal)


def _tier_output(
    trigger: Trigger, decision: TierDecision, evaluation: Evaluation, ruleset: Ruleset
) -> TierChange | None:
    state, rule = decision.state, decision.changed_to
    if state is None or rule is None:
        return None
    old = next((t for t in ruleset.tiers if t.tier == decision.previous), None)
    up = old is None or rule.rank > old.rank
    # up: the new tier's entry condition explains it; down: the old tier's failed stay condition
    explaining = rule.id if up or old is None else f"{old.id}#stay"
    condition = next(c for c in ruleset.conditions if c.rule_id == explaining)
    context = evaluation.context
    message = render(rule.message, context)
    if not up and old is not None:
        days = ruleset.tier_policy.hold.days
        message = f"Below the {old.tier} tier's stay condition for {days} days; {message}"
    return TierChange(
        change_id=state.change_id,
        customer_id=trigger.customer_id,
        old_tier=decision.previous,
        new_tier=state.tier,
        direction="up" if up else "down",
        rule_id=rule.id,
        message=message,
        evidence=evidence(condition, context),
        trigger_event_id=trigger.event_id,
        occurred_at=trigger.occurred_at,
        ruleset_version=ruleset.version,
    )


#: Interaction kinds that answer an offer, and the response they record.
RESPONSES = {"offer_accepted": "accepted", "offer_declined": "declined"}


def _expiry(occurred_at: datetime, valid_for: timedelta, valid_until: date | None) -> datetime:
    """Until when the customer may accept: ``valid_for`` after the trigger, never past the campaign."""
    expires = occurred_at + valid_for
    if valid_until is not None:
        campaign_end = datetime.combine(valid_until + timedelta(days=1), datetime.min.time(), UTC)
        expires = min(expires, campaign_end)
    return expires


def _millis(duration: timedelta) -> int:
    return int(duration.total_seconds() * 1000)


def _ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(moment.timestamp() * 1000)
