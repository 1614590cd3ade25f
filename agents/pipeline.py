"""The batch pipeline: decode -> apply profile updates -> evaluate rules -> claim cooldowns -> outputs.

It knows nothing about Faust: the worker's agent feeds it consumed records and sends what it
returns, and replay or tests can drive it directly. Redis round trips per batch: per chunk of
profile updates, one reads the customers this worker does not hold in memory and one writes the
changed profiles back (sinks/redis/profiles.py; the next chunk's calls are on their way while rules
run on the previous one), one schedules each customer's next silence check, one claims every
cooldown (churn alerts, signals, offers), judges each customer's tag set and writes their timeline
(the last events and outputs, agents/timeline.py; each write after the claims it records). On a
Redis Cluster each of these is one call per hash slot, sent together.

Each step lives in its own module: decoding and dead letters (agents/decode.py), the claim plan
and what its answers grant (agents/claims.py), the output records (agents/outputs.py), and when
customers are checked for silence (agents/silence.py) and at complaint deadlines (agents/deadlines.py).
``check`` re-evaluates customers with no
event; agents/checks.py runs it in rounds. Time is always a parameter here, never read from a
hidden clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agents.claims import granted_outputs, plan_claims
from agents.deadlines import (
    ScheduledCheck,
    complaint_ages,
    deadline_as_of,
    deadline_check_id,
    deadline_checks,
    deadlines_between,
    open_complaints,
)
from agents.decode import DEFAULT_RATES, RawRecord, decode_batch, utc_now
from agents.metrics import Metrics
from agents.outputs import OutputRecord
from agents.silence import CheckResult, check_id, first_checks, following_check
from agents.timeline import DEFAULT_TIMELINE, TimelineLimits, event_entry
from agents.times import epoch_ms, millis
from agents.trigger import Evaluated, Trigger
from rules.evaluate import tiers
from rules.evaluate.engine import Evaluation, evaluate
from rules.load.ruleset import Ruleset
from schemas.inputs import InputEvent
from schemas.money import RateTable
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.delta import MS_PER_DAY, ProfileUpdate, build_update
from schemas.profile.view import build_event_context, build_profile, neutral_event
from sinks.redis.claims import AnyClaim, ClaimReply
from sinks.redis.keys import kafka_position
from sinks.redis.profiles import StoredProfile
from sinks.redis.state import RedisState

log = logging.getLogger(__name__)

#: Event-loop turns redis-py needs to take a pooled connection and write a command (two measured,
#: one spare). With fewer, the next chunk's call goes out only at the next ``await``: still correct,
#: but Redis then works while Python waits instead of alongside it.
_SEND_TURNS = 3


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
    strict_topics: frozenset[str] = frozenset()  # input topics where an unknown field is a dead letter
    timeline: TimelineLimits = DEFAULT_TIMELINE  # events and outputs each customer's timeline keeps
    rates: RateTable = DEFAULT_RATES  # the reporting currency and exchange rates (schemas/money.py)


class Pipeline:
    """Processes batches of raw records into output records, idempotently."""

    def __init__(
        self,
        redis: RedisState,
        ruleset: Callable[[], Ruleset],
        metrics: Metrics,
        config: PipelineConfig,
        clock: Callable[[], datetime] = utc_now,
        observe: Callable[[Trigger, Evaluation], None] | None = None,
        committed: Callable[[], str] | None = None,
        event_time: bool = False,
    ) -> None:
        """``observe`` sees every evaluation before cooldowns (replay scores rules with it).

        ``event_time``: the clock is event time and a batch spans hours of it (a replay running
        silence checks by its watermark). A complaint deadline that passes between two of a
        customer's events in one batch is then evaluated where the worker's timer would have
        evaluated it, before the later event (agents/deadlines.py ``deadlines_between``). The
        worker's batches span milliseconds of live traffic, and in a backlog the checks' grace
        lets the next event judge (as without this).

        ``committed``: for records read from Kafka, the consumer group's committed offsets
        (``CommittedOffsets.packed``); profiles then keep each event's position until it is
        committed. Without it (replays, tests) records' offsets are not Kafka's and are not kept.
        """
        self._observe = observe
        self._committed = committed
        self._redis = redis
        self._ruleset = ruleset
        self._metrics = metrics
        self._config = config
        self._clock = clock
        self._event_time = event_time
        # event time only: customers with open complaints after a batch (their open times, latest
        # activity), and the time the replay's checks ran to after it (a deadline at or before
        # that was the timer's to evaluate)
        self._carried: dict[str, tuple[list[int], int]] = {}
        self._checked_ms = 0

    async def process(self, records: Sequence[RawRecord], retry: bool = False) -> list[OutputRecord]:
        """Return the outputs for ``records`` in input order (dead letters first).

        ``retry``: the same batch failed before (Redis went away mid-batch). Its profile updates may
        have been applied while its cooldown claims were not, so events found already applied are
        not treated as re-deliveries: their outputs may still be claimed (under the same ids).
        Metrics are counted only once the batch has gone through, so a retry does not count twice.
        """
        now = self._clock()
        config = self._config
        decoded = decode_batch(records, now, config.max_future, config.strict_topics, config.rates)
        outputs = decoded.dead_letter_outputs()
        if decoded.events:
            outputs.extend(await self._process_events(decoded.events, now, retry))
        self._metrics.batch_size.observe(len(records))
        for record, letter in decoded.dead:
            self._metrics.events.labels(record.topic, "dead_letter").inc()
            self._metrics.dead_letters.labels(record.topic, letter.reason.value).inc()
        for (topic, name), count in decoded.unknown_fields.items():
            self._metrics.count_unknown_field(topic, name, count)
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
        evaluated: list[Evaluated] = []
        latest: dict[str, int] = {}  # customer -> latest activity (event time, ms)
        opened: dict[str, list[int]] = {}  # customer -> when each open complaint opened (ms)
        held: dict[str, StoredProfile] = {}  # customer -> the state their previous event here left
        ages = complaint_ages(ruleset)
        passed: list[str] = []  # deadline members evaluated here (event time only)
        if self._event_time and self._carried:
            evaluated.extend(await self._deadlines_before(events, updates, ruleset, ages, passed))
        outcomes: list[tuple[str, str]] = []
        model = self._config.churn_model
        churn = model.probability if model is not None else None
        timeline = self._config.timeline.events > 0
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
                    customer_id = event.customer_id
                    if self._event_time and opened.get(customer_id):  # a deadline passed since the last?
                        before = held[customer_id]
                        for due in deadlines_between(
                            opened[customer_id], latest[customer_id], profile_now, ages
                        ):
                            evaluated.append(self._at_deadline(customer_id, before, due, due, ruleset))
                            passed.append(ScheduledCheck(customer_id, due).member)
                    held[customer_id] = result
                    latest[customer_id] = max(latest.get(customer_id, 0), profile_now)
                    profile = build_profile(
                        event.customer_id,
                        result.state,
                        result.sums,
                        profile_now,
                        model,
                        result.active_days,
                        result.active_bits,
                    )
                    opened[event.customer_id] = (
                        open_complaints(result.state) if profile["complaints_open"] else []
                    )
                    context = build_event_context(event, self._config.home_bank, result.facts)
                    trigger = Trigger.of(event, update.ts_ms, result.state.get(tiers.FIELD, ""))
                    evaluation = evaluate(ruleset, profile, context, event.occurred_at.date(), churn)
                    entry = event_entry(event, update.ts_ms) if timeline else None
                    evaluated.append(Evaluated(trigger, evaluation, duplicate, entry))
        await self._schedule(latest, now, opened, ruleset)
        if self._event_time:
            await self._carry(latest, opened, passed)
        outputs = await self.decide(evaluated, ruleset)
        for (topic, outcome), count in Counter(outcomes).items():  # one labelled update per kind
            self._metrics.events.labels(topic, outcome).inc(count)
        return outputs

    async def _deadlines_before(
        self,
        events: Sequence[tuple[RawRecord, InputEvent]],
        updates: Sequence[ProfileUpdate],
        ruleset: Ruleset,
        ages: tuple[int, ...],
        passed: list[str],
    ) -> list[Evaluated]:
        """Event time: deadlines that passed between a customer's last batch and their first event in
        this one, after the checks ran (the timer's own), evaluated on the state before this batch."""
        due: dict[str, list[int]] = {}
        for (_, event), update in zip(events, updates, strict=True):
            customer_id = event.customer_id
            if customer_id in due or customer_id not in self._carried:
                continue
            times, last = self._carried[customer_id]
            after = max(last, self._checked_ms)
            due[customer_id] = deadlines_between(times, after, max(update.ts_ms, last), ages)
        due = {customer_id: moments for customer_id, moments in due.items() if moments}
        if not due:
            return []
        profiles = self._redis.profiles
        before = await asyncio.gather(*(profiles.read(c, moments[0]) for c, moments in due.items()))
        evaluated: list[Evaluated] = []
        for (customer_id, moments), stored in zip(due.items(), before, strict=True):
            for moment in moments:
                evaluated.append(self._at_deadline(customer_id, stored, moment, moment, ruleset))
                passed.append(ScheduledCheck(customer_id, moment).member)
        return evaluated

    async def _carry(self, latest: dict[str, int], opened: dict[str, list[int]], passed: list[str]) -> None:
        """Event time: the deadlines evaluated in the batch leave the schedule (the timer would
        evaluate them again), and who still has an open complaint is remembered for the next."""
        if passed:
            await self._redis.schedule.forget(passed)
        for customer_id, last in latest.items():
            if opened.get(customer_id):
                self._carried[customer_id] = (opened[customer_id], last)
            else:
                self._carried.pop(customer_id, None)

    def checked(self, now: datetime) -> None:
        """Event time: every check due by ``now`` has run (a replay says so after each batch)."""
        self._checked_ms = max(self._checked_ms, epoch_ms(now))

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
        committed = "" if self._committed is None else self._committed()
        conflicts = self._redis.profiles.conflicts
        stored = await self._redis.profiles.apply(updates, committed)
        self._metrics.redis.labels("profile_update").observe(time.perf_counter() - started)
        if self._redis.profiles.conflicts > conflicts:
            self._metrics.profile_conflicts.inc(self._redis.profiles.conflicts - conflicts)
        return stored

    async def _schedule(
        self, latest: dict[str, int], now: datetime, opened: dict[str, list[int]], ruleset: Ruleset
    ) -> None:
        """Schedule each customer's silence check (agents/silence.py) and the deadline checks of their
        open complaints (agents/deadlines.py), in one round trip."""
        config = self._config
        due = first_checks(latest, epoch_ms(now), config.check_after, config.check_grace, config.quiet_cap)
        # in event time (a replay) every event up to now is applied: no resolution is on its way
        earliest = 0 if self._event_time else epoch_ms(now) + millis(config.check_grace)
        due.update(deadline_checks(opened, latest, complaint_ages(ruleset), earliest))
        started = time.perf_counter()
        await self._redis.schedule.schedule(due)
        self._metrics.redis.labels("schedule").observe(time.perf_counter() - started)

    async def check(self, customer_ids: Sequence[str], now: datetime) -> CheckResult:
        """Re-evaluate customers as of ``now`` with no event: silence is a signal.

        Profiles are read as of ``now`` in one round trip and evaluated with a neutral "check"
        event, then go through the same cooldown claims as events (with ``now`` as the trigger
        time), so cooldowns, level rises and deterministic ids behave exactly as for events.
        Customers with no profile left get no next check; the others get the next whole check
        period after their latest activity, unless that is past the quiet cap. ``customer_ids`` are
        the schedule's members: deadline checks among them (agents/deadlines.py) are evaluated as
        of their deadline, before the others, and leave the schedule.
        """
        scheduled = [ScheduledCheck.parse(member) for member in customer_ids]
        deadlines = [item for item in scheduled if item.due_ms is not None]
        customer_ids = [item.customer_id for item in scheduled if item.due_ms is None]
        now_ms = epoch_ms(now)
        started = time.perf_counter()
        stored = await self._redis.profiles.read_many(customer_ids, now_ms)
        self._metrics.redis.labels("profile_read").observe(time.perf_counter() - started)
        ruleset = self._ruleset()
        config = self._config
        churn = config.churn_model.probability if config.churn_model is not None else None
        evaluated: list[Evaluated] = []
        next_checks: dict[str, int | None] = {}
        for customer_id, result in zip(customer_ids, stored, strict=True):
            if "last_ts" not in result.state:
                log.info("customer=%s has no profile left: leaves the silence schedule", customer_id)
                next_checks[customer_id] = None
                continue
            last = int(result.state["last_ts"])
            check = check_id(last, now_ms, config.check_after)
            profile = build_profile(
                customer_id,
                result.state,
                result.sums,
                now_ms,
                config.churn_model,
                result.active_days,
                result.active_bits,
            )
            evaluation = evaluate(ruleset, profile, neutral_event("check", check), now.date(), churn)
            stored_tier = result.state.get(tiers.FIELD, "")
            evaluated.append(Evaluated(Trigger(customer_id, check, now_ms, now, "", stored_tier), evaluation))
            next_checks[customer_id] = following_check(last, now_ms, config.check_after, config.quiet_cap)
            if next_checks[customer_id] is None:
                log.info(
                    "customer=%s check=%s quiet for %d days: last check until its next event",
                    customer_id,
                    check,
                    (now_ms - last) // MS_PER_DAY,
                )
        evaluated[:0] = await self._check_deadlines(deadlines, now, ruleset, next_checks)
        outputs = await self.decide(evaluated, ruleset)
        log.debug("silence checks as of %s: %d customers, %d outputs", now, len(customer_ids), len(outputs))
        return CheckResult(outputs, next_checks)

    async def _check_deadlines(
        self,
        items: Sequence[ScheduledCheck],
        now: datetime,
        ruleset: Ruleset,
        next_checks: dict[str, int | None],
    ) -> list[Evaluated]:
        """Evaluate customers at their deadline checks (as of the deadline, id ``check:<due time>``);
        each deadline is checked once, so it leaves the schedule (``next_checks[member] = None``)."""
        if not items:
            return []
        now_ms = epoch_ms(now)
        stored = await self._redis.profiles.read_many([item.customer_id for item in items], now_ms)
        evaluated: list[Evaluated] = []
        for item, result in zip(items, stored, strict=True):
            next_checks[item.member] = None
            if item.due_ms is None or "last_ts" not in result.state:
                continue
            at_ms = deadline_as_of(item.due_ms, int(result.state["last_ts"]), now_ms)
            evaluated.append(self._at_deadline(item.customer_id, result, item.due_ms, at_ms, ruleset))
        return evaluated

    def _at_deadline(
        self, customer_id: str, stored: StoredProfile, due_ms: int, at_ms: int, ruleset: Ruleset
    ) -> Evaluated:
        """The customer as of ``at_ms`` for the complaint deadline ``due_ms`` (id ``check:<due time>``:
        the timer's check and a batch's own evaluation of one deadline make the same outputs)."""
        config = self._config
        at = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
        check = deadline_check_id(due_ms)
        profile = build_profile(
            customer_id,
            stored.state,
            stored.sums,
            at_ms,
            config.churn_model,
            stored.active_days,
            stored.active_bits,
        )
        churn = config.churn_model.probability if config.churn_model is not None else None
        evaluation = evaluate(ruleset, profile, neutral_event("check", check), at.date(), churn)
        trigger = Trigger(customer_id, check, at_ms, at, "", stored.state.get(tiers.FIELD, ""))
        return Evaluated(trigger, evaluation)

    async def decide(self, evaluated: Sequence[Evaluated], ruleset: Ruleset) -> list[OutputRecord]:
        """Claim cooldowns for every evaluation in one round trip and build the outputs granted."""
        for item in evaluated:
            if self._observe is not None and not item.duplicate:
                self._observe(item.trigger, item.evaluation)
            self._count(item.evaluation)
        timeline = self._config.timeline
        plans = [plan_claims(item, ruleset, timeline) for item in evaluated]
        replies = iter(await self._claim([claim for plan in plans for claim in plan.claims()]))
        outputs: list[OutputRecord] = []
        for plan in plans:
            outputs.extend(granted_outputs(plan, plan.answers(replies), self._metrics))
        return outputs

    def _count(self, evaluation: Evaluation) -> None:
        """What the rules concluded, before cooldowns: rules fired, failed, offers suppressed."""
        for rule_id in evaluation.errors:
            self._metrics.rule_errors.labels(rule_id).inc()
        for reason in evaluation.suppressed:
            self._metrics.offers_suppressed.labels(reason[1]).inc()
        for fired in (*evaluation.fired, *evaluation.signals):
            self._metrics.rules_fired.labels(fired.rule.id).inc()

    async def _claim(self, claims: list[AnyClaim]) -> list[ClaimReply]:
        if not claims:
            return []
        started = time.perf_counter()
        granted = await self._redis.claims.claim(claims)
        self._metrics.redis.labels("claim").observe(time.perf_counter() - started)
        return granted
