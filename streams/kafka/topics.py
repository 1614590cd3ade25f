"""Faust topic objects for every topic in the contract (raw bytes in and out: we validate ourselves)."""

from __future__ import annotations

from typing import Any

import faust

from schemas.catalog import CUSTOMERS, INPUT_TOPICS, OUTPUT_TOPICS, RULES_CONTROL


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
