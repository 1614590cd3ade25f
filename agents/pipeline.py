"""The batch pipeline: decode, update profiles, evaluate rules, claim cooldowns, build outputs.

It knows nothing about Faust: the worker's agent feeds it consumed records and sends what it
returns, and replay or tests can drive it directly. Two Redis round trips per batch: one applies
every profile update, one claims every cooldown.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from agents.decode import RawRecord, decode, utc_now
from agents.metrics import Metrics
from rules.engine import Evaluation, evaluate
from rules.ruleset import Ruleset
from schemas.catalog import CHURN_ALERTS, DEAD_LETTERS, OFFERS
from schemas.inputs import InputEvent
from schemas.outputs import ChurnAlert, DeadLetter, NextBestOffer, Reason
from sinks.profile.delta import build_update
from sinks.profile.store import Claim, ProfileStore
from sinks.profile.view import build_event_context, build_profile

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutputRecord:
    topic: str
    key: bytes
    value: BaseModel

    def encoded(self) -> bytes:
        return self.value.model_dump_json().encode()


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    home_bank: str
    max_future: timedelta


def stable_id(*parts: str) -> str:
    """Deterministic output id: the same inputs always give the same id (dedupe after replays)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


@dataclass(slots=True)
class _Decided:
    event: InputEvent
    evaluation: Evaluation
    ruleset: Ruleset
    alert_id: str
    churn_claims: list[int]
    offer_claims: list[tuple[int, str]]  # (claim index, offer event id)


class Pipeline:
    """Processes batches of raw records into output records, idempotently."""

    def __init__(
        self,
        store: ProfileStore,
        ruleset: Callable[[], Ruleset],
        metrics: Metrics,
        config: PipelineConfig,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._ruleset = ruleset
        self._metrics = metrics
        self._config = config
        self._clock = clock

    async def process(self, records: Sequence[RawRecord]) -> list[OutputRecord]:
        """Return the outputs for ``records`` in input order (dead letters included)."""
        now = self._clock()
        self._metrics.batch_size.observe(len(records))
        outputs: list[OutputRecord] = []
        events: list[tuple[RawRecord, InputEvent]] = []
        for record in records:
            result = decode(record, now, self._config.max_future)
            if isinstance(result, DeadLetter):
                self._metrics.events.labels(record.topic, "dead_letter").inc()
                self._metrics.dead_letters.labels(record.topic, result.reason.value).inc()
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
            outputs.extend(await self._process_events(events, now))
        return outputs

    async def _process_events(
        self, events: list[tuple[RawRecord, InputEvent]], now: datetime
    ) -> list[OutputRecord]:
        updates = [build_update(event, self._config.home_bank) for _, event in events]
        started = time.perf_counter()
        stored = await self._store.apply(updates)
        self._metrics.redis.labels("profile_update").observe(time.perf_counter() - started)
        ruleset = self._ruleset()
        claims: list[Claim] = []
        decided: list[_Decided] = []
        for (record, event), update, result in zip(events, updates, stored, strict=True):
            self._metrics.events.labels(record.topic, "duplicate" if result.duplicate else "processed").inc()
            self._metrics.event_lag.observe(max(0.0, (now - event.occurred_at).total_seconds()))
            profile_now = max(update.ts_ms, int(result.state.get("last_ts", update.ts_ms)))
            profile = build_profile(event.customer_id, result.state, result.sums, profile_now)
            context = build_event_context(event, self._config.home_bank)
            evaluation = evaluate(ruleset, profile, context)
            decided.append(
                self._claims_for(event, update.ts_ms, evaluation, ruleset, claims, result.duplicate)
            )
        granted = await self._claim(claims)
        outputs: list[OutputRecord] = []
        for item in decided:
            outputs.extend(self._outputs(item, granted))
        return outputs

    def _claims_for(
        self,
        event: InputEvent,
        ts_ms: int,
        evaluation: Evaluation,
        ruleset: Ruleset,
        claims: list[Claim],
        duplicate: bool,
    ) -> _Decided:
        """Queue cooldown claims for what this event would emit.

        A duplicate (re-delivered after a crash, or sent twice) may only re-emit outputs that were
        already decided for it, under the same ids; it never creates new ones.
        """
        for rule_id in evaluation.errors:
            self._metrics.rule_errors.labels(rule_id).inc()
        for reason in evaluation.suppressed:
            self._metrics.offers_suppressed.labels(reason[1]).inc()
        alert_id = stable_id("alert", event.customer_id, event.event_id, ruleset.version)
        item = _Decided(event, evaluation, ruleset, alert_id, [], [])
        if evaluation.level is not None:
            for fired in evaluation.fired:
                self._metrics.rules_fired.labels(fired.rule.id).inc()
                until = ts_ms + int(fired.rule.cooldown.total_seconds() * 1000)
                item.churn_claims.append(len(claims))
                claims.append(
                    Claim(
                        event.customer_id,
                        f"rule:{fired.rule.id}",
                        alert_id,
                        ts_ms,
                        until,
                        reemit_only=duplicate,
                    )
                )
        group = f"offers:{event.event_id}"
        for offer in evaluation.offers:
            offer_event_id = stable_id("offer", event.customer_id, offer.id, event.event_id, ruleset.version)
            until = ts_ms + int(offer.cooldown.total_seconds() * 1000)
            item.offer_claims.append((len(claims), offer_event_id))
            claims.append(
                Claim(
                    event.customer_id,
                    f"offer:{offer.id}",
                    offer_event_id,
                    ts_ms,
                    until,
                    group,
                    ruleset.contact_policy.max_offers_per_event,
                    duplicate,
                )
            )
        return item

    async def _claim(self, claims: list[Claim]) -> list[bool]:
        if not claims:
            return []
        started = time.perf_counter()
        granted = await self._store.claim(claims)
        self._metrics.redis.labels("claim").observe(time.perf_counter() - started)
        return granted

    def _outputs(self, item: _Decided, granted: list[bool]) -> list[OutputRecord]:
        event, evaluation, ruleset = item.event, item.evaluation, item.ruleset
        key = event.customer_id.encode()
        outputs: list[OutputRecord] = []
        if item.churn_claims and any(granted[i] for i in item.churn_claims) and evaluation.level is not None:
            alert = ChurnAlert(
                alert_id=item.alert_id,
                customer_id=event.customer_id,
                score=evaluation.score,
                level=evaluation.level,
                reasons=[
                    Reason(rule_id=f.rule.id, message=f.message, weight=f.rule.weight, evidence=f.evidence)
                    for f in evaluation.fired
                ],
                suggested_action=evaluation.suggested_action,
                trigger_event_id=event.event_id,
                occurred_at=event.occurred_at,
                ruleset_version=ruleset.version,
            )
            self._metrics.alerts.labels(alert.level.value).inc()
            log.info(
                "churn alert %s customer=%s event=%s level=%s rules=%s",
                alert.alert_id,
                event.customer_id,
                event.event_id,
                alert.level.value,
                ",".join(r.rule_id for r in alert.reasons),
            )
            outputs.append(OutputRecord(CHURN_ALERTS, key, alert))
        for offer, (index, offer_event_id) in zip(evaluation.offers, item.offer_claims, strict=True):
            if not granted[index]:
                self._metrics.offers_suppressed.labels("cooldown_or_cap").inc()
                continue
            event_channel = str(getattr(event, "channel", ""))
            channel = event_channel if event_channel in offer.channels else offer.channels[0]
            nbo = NextBestOffer(
                offer_event_id=offer_event_id,
                customer_id=event.customer_id,
                offer_id=offer.id,
                product=offer.product,
                category=offer.category,
                score=round(offer.value * offer.priority, 6),
                channel=channel,
                reasons=[evaluation.offer_reasons[offer.id], offer.description],
                trigger_event_id=event.event_id,
                occurred_at=event.occurred_at,
                expires_at=event.occurred_at + offer.valid_for,
                ruleset_version=ruleset.version,
            )
            self._metrics.offers.labels(offer.id, nbo.strategy).inc()
            log.info(
                "offer %s customer=%s event=%s offer=%s",
                nbo.offer_event_id,
                event.customer_id,
                event.event_id,
                offer.id,
            )
            outputs.append(OutputRecord(OFFERS, key, nbo))
        return outputs
