"""The scripted story (tests/support/story.py) as consumed records, run through a real pipeline."""

from __future__ import annotations

import asyncio

from agents.decode import RawRecord
from agents.metrics import Metrics
from agents.outputs import OutputRecord
from rules.load.ruleset import Ruleset
from tests.support.redis_state import make_pipeline
from tests.support.story import encoded, story


def records() -> list[RawRecord]:
    return [
        RawRecord(topic, 0, i, body["customer_id"].encode(), encoded((topic, body)))
        for i, (topic, body) in enumerate(story())
    ]


def process(
    url: str, ruleset: Ruleset, batches: list[list[RawRecord]], metrics: Metrics | None = None
) -> list[OutputRecord]:
    """Run ``batches`` in order through one pipeline on ``url``; every output, in order."""

    async def go() -> list[OutputRecord]:
        pipeline = make_pipeline(url, ruleset, metrics)
        outputs: list[OutputRecord] = []
        for batch in batches:
            outputs.extend(await pipeline.process(batch))
        return outputs

    return asyncio.run(go())
