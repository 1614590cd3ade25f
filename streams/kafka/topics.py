"""Every topic of the contract as Faust topic objects (raw bytes in and out: we validate ourselves)
and as created on a broker (partitions, compaction, retention): the one place both come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from schemas.catalog import (
    CONTROL_TOPICS,
    CUSTOMERS,
    DEAD_LETTERS,
    INPUT_TOPICS,
    OUTPUT_TOPICS,
    RULES_CONTROL,
)


def input_topic(app: faust.App, partitions: int) -> Any:
    """One Faust topic over all input topics, values as raw bytes so bad input cannot crash decoding."""
    return app.topic(
        *INPUT_TOPICS,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )


def output_topics(app: faust.App, partitions: int) -> dict[str, Any]:
    return {
        name: app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
        )
        for name in OUTPUT_TOPICS
    }


#: Topics whose cleanup policy is compaction (latest record per key is what matters).
COMPACTED_TOPICS = frozenset({CUSTOMERS, RULES_CONTROL})

#: Topics with a fixed partition count: the control topic has one, so its records are totally ordered.
FIXED_PARTITIONS: dict[str, int] = {RULES_CONTROL: 1}

_DAY_MS = 86_400_000
#: How long a deleted (not compacted) topic keeps its records: a week lets a worker that was down,
#: or a downstream system, catch up and lets rules be replayed on recent traffic; dead letters stay a
#: month, for someone to look at why the input was refused and have the producer send it again.
DEFAULT_RETENTION_MS = 7 * _DAY_MS
RETENTION_MS: dict[str, int] = {DEAD_LETTERS: 30 * _DAY_MS}


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """How one topic of the catalogue is created: partitions, cleanup policy, retention."""

    name: str
    partitions: int | None  # None: the settings' partition count
    compacted: bool
    retention_ms: int | None  # None: compacted, the latest record per key is kept as long as its key

    def partitions_for(self, default: int) -> int:
        return self.partitions if self.partitions is not None else default

    def configs(self) -> dict[str, str]:
        """The topic configuration to create it with (Kafka's names)."""
        if self.compacted:
            return {"cleanup.policy": "compact"}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


def topic_spec(name: str) -> TopicSpec:
    """The spec of a topic: fixed partitions, compaction and retention as above, else the defaults."""
    compacted = name in COMPACTED_TOPICS
    return TopicSpec(
        name,
        FIXED_PARTITIONS.get(name),
        compacted,
        None if compacted else RETENTION_MS.get(name, DEFAULT_RETENTION_MS),
    )


def topic_specs() -> tuple[TopicSpec, ...]:
    """Every topic of the catalogue (inputs, outputs, control), in creation order."""
    return tuple(topic_spec(name) for name in (*INPUT_TOPICS, *OUTPUT_TOPICS, *CONTROL_TOPICS))
