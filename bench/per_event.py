"""Baseline 2, the straightforward design: a Faust worker (default settings) that handles one event
at a time: decode it, one ``await`` to Redis to update the profile, every rule as its own CEL call
over the nested profile and event maps, and one awaited send when a churn rule fires.

The same profile store (Lua script), decoder and rules as the real worker, so the difference the
benchmark shows is the design (batches, one CEL call per ruleset, pipelined sends), not the code.
Started by ``bench/e2e.py`` as ``python -m bench.per_event worker``; nothing to run by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import cel
import orjson

from agents.decode import RawRecord, decode
from bench.progress import PER_EVENT_TOPIC, BaselineSettings, Progress, baseline_app
from rules.load.ruleset import load_ruleset
from schemas.catalog import INPUT_TOPICS
from schemas.outputs import DeadLetter
from schemas.profile.delta import build_update
from schemas.profile.view import build_event_context, build_profile
from streams.config import connect_redis, pipeline_config
from streams.settings import DEFAULT_RULES_DIR, Settings

settings = BaselineSettings()
app = baseline_app(settings)
progress = Progress(settings.expected, settings.result_path)
ruleset = load_ruleset([DEFAULT_RULES_DIR])
churn_ids = {rule.id for rule in ruleset.churn_rules}
programs = [(condition.rule_id, cel.compile(condition.source)) for condition in ruleset.conditions]
outputs = app.topic(PER_EVENT_TOPIC, value_serializer="raw")


@app.agent(app.topic(*INPUT_TOPICS, value_serializer="raw"))
async def per_event(stream: Any) -> AsyncIterator[None]:
    """One event, one Redis round trip, one CEL call per rule, one awaited send."""
    worker = Settings()  # decoding and the store as a worker's (SIGNALBANK_*), read when it runs
    config = pipeline_config(worker)
    store = connect_redis(worker, settings.redis_url).profiles
    async for event in stream.events():
        message = event.message
        record = RawRecord(message.topic, message.partition, message.offset, message.key, message.value)
        decoded = decode(record, datetime.now(UTC), config.max_future)
        if not isinstance(decoded, DeadLetter):
            update = build_update(decoded, config.home_bank)
            (stored,) = await store.apply([update])
            now_ms = max(update.ts_ms, int(stored.state.get("last_ts", update.ts_ms)))
            profile = build_profile(decoded.customer_id, stored.state, stored.sums, now_ms)
            context = {"profile": profile, "event": build_event_context(decoded, config.home_bank)}
            fired = [rule_id for rule_id, program in programs if program.execute(context) is True]
            churn = [rule_id for rule_id in fired if rule_id in churn_ids]
            if churn:
                value = orjson.dumps({"customer_id": decoded.customer_id, "rules": churn})
                await outputs.send(key=decoded.customer_id.encode(), value=value)
        progress.tick()
        yield None


if __name__ == "__main__":
    app.main()
