"""Prometheus metrics of the pipeline, on a registry owned by the worker (not the global one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LAG_BUCKETS = (0.1, 1, 5, 30, 60, 300, 3600, 86_400, 7 * 86_400, 30 * 86_400, 365 * 86_400)
#: Distinct unknown field names labelled per topic; further names count as ``UNKNOWN_FIELD_OTHER``
#: (a producer sending random keys must not grow the registry without bound).
UNKNOWN_FIELD_NAMES = 50
UNKNOWN_FIELD_OTHER = "_other"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.events = Counter(
            "signalbank_events", "Input events by topic and outcome.", ["topic", "outcome"], registry=r
        )
        self.dead_letters = Counter(
            "signalbank_dead_letters",
            "Invalid inputs sent to the dead-letter topic.",
            ["topic", "reason"],
            registry=r,
        )
        self.processing = Histogram(
            "signalbank_event_processing_seconds",
            "From taking an event to its outputs being sent.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.event_lag = Histogram(
            "signalbank_event_time_lag_seconds",
            "Wall clock minus event time when processed.",
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        self.redis = Histogram(
            "signalbank_redis_call_seconds",
            "Duration of Redis round trips.",
            ["operation"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "signalbank_batch_size",
            "Events per processed batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000),
            registry=r,
        )
        self.rules_fired = Counter(
            "signalbank_rule_fired", "Rules whose condition held (before cooldowns).", ["rule_id"], registry=r
        )
        self.rule_errors = Counter(
            "signalbank_rule_errors", "Rule conditions that failed.", ["rule_id"], registry=r
        )
        self.alerts = Counter("signalbank_churn_alerts", "Churn alerts emitted.", ["level"], registry=r)
        self.signals = Counter(
            "signalbank_signals",
            "Tag, care, risk and service signals emitted.",
            ["kind", "rule_id"],
            registry=r,
        )
        self.tier_changes = Counter(
            "signalbank_tier_changes",
            "Value-tier changes sent, by new tier.",
            ["tier", "direction"],
            registry=r,
        )
        self.offers = Counter(
            "signalbank_offers",
            "Offers presented (sent once; re-emits after a redelivery are not counted).",
            ["offer_id", "strategy"],
            registry=r,
        )
        self.offer_responses = Counter(
            "signalbank_offer_responses",
            "Offers accepted or declined, counted once per response; conversion = accepted / presented.",
            ["offer_id", "strategy", "response"],
            registry=r,
        )
        self.offers_suppressed = Counter(
            "signalbank_offers_suppressed",
            "Eligible offers not sent, by reason (suitability, contact policy, caps, cool-offs).",
            ["reason"],
            registry=r,
        )
        self.ruleset = Gauge(
            "signalbank_ruleset_info", "Active ruleset version (1 = active).", ["version"], registry=r
        )
        self.ruleset_updates = Counter(
            "signalbank_ruleset_updates",
            "Switches to a ruleset published on the control topic (at startup or live).",
            registry=r,
        )
        self.ruleset_rejected = Counter(
            "signalbank_ruleset_rejected",
            "Published rulesets refused as invalid; the last good ruleset stayed active.",
            registry=r,
        )
        self.redis_up = Gauge("signalbank_redis_up", "1 when the last Redis call succeeded.", registry=r)
        self.consumer_lag = Gauge(
            "signalbank_consumer_lag",
            "Events not committed yet per assigned partition: fetch high-water mark minus committed offset.",
            ["topic", "partition"],
            registry=r,
        )
        self.silence_overdue = Gauge(
            "signalbank_silence_checks_overdue_seconds",
            "How long the earliest scheduled silence check has been due (0 when none is due).",
            registry=r,
        )
        self.send_errors = Counter(
            "signalbank_output_send_errors",
            "Outputs whose send to the broker failed (their batch is not committed).",
            ["topic"],
            registry=r,
        )
        self.profile_conflicts = Counter(
            "signalbank_profile_conflicts",
            "Profiles another writer had changed since this worker read them (read again and re-applied):"
            " a rebalance moving partitions, or two workers given the same customer.",
            registry=r,
        )
        self.unknown_fields = Counter(
            "signalbank_unknown_fields",
            "Input events accepted with a field their model does not know (ignored), by topic and field "
            f"name: at most {UNKNOWN_FIELD_NAMES} names per topic, then field={UNKNOWN_FIELD_OTHER}.",
            ["topic", "field"],
            registry=r,
        )
        self._unknown_names: dict[str, set[str]] = {}

    def count_unknown_field(self, topic: str, name: str, events: int = 1) -> None:
        """Count ``events`` that carried the unknown field ``name``, within the label budget per topic."""
        name = name[:64]
        names = self._unknown_names.setdefault(topic, set())
        if name not in names:
            if len(names) >= UNKNOWN_FIELD_NAMES:
                name = UNKNOWN_FIELD_OTHER
            else:
                names.add(name)
        self.unknown_fields.labels(topic, name).inc(events)
