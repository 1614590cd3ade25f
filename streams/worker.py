"""The worker: the one module that builds the Faust app and registers its agents, hooks and pages.

Everything is built by ``build_worker(settings)`` from the settings the entry point read; the
agents themselves (agents/) never import the app, so there is no import cycle and importing
any module reads no environment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from agents.ingest import ingest
from agents.outputs import OutputRecord
from agents.timer import silence_checks
from streams.app import App, create_app
from streams.config import timer_config
from streams.control.follower import RulesFollower
from streams.kafka.admin import bootstrap_of
from streams.kafka.topics import input_topic, output_topics
from streams.runtime import Runtime
from streams.settings import Settings
from streams.web import register_pages

log = logging.getLogger(__name__)


def build_worker(settings: Settings, runtime: Runtime | None = None) -> App:
    """The app with the ingest agent, the silence-check timer, the start-up hooks and the web pages."""
    app = create_app(settings)
    runtime = runtime or Runtime(settings)
    topics = output_topics(app, settings.partitions)

    async def deliver(outputs: Sequence[OutputRecord]) -> None:
        """Send every output and wait until the broker has them all."""
        pending = [await topics[o.topic].send(key=o.key, value=o.encoded()) for o in outputs]
        if pending:
            await asyncio.gather(*pending)

    @app.before_consuming
    def follow_published_rules() -> None:
        """Latest published ruleset if any, else the rules folder (invalid folder: fail before joining).

        Before the consumer, group membership and agents start: no event is processed with stale rules.
        """
        follower = RulesFollower(bootstrap_of(settings.kafka_url), runtime)
        if not follower.catch_up():
            log.info("no published ruleset on %s: using the rules folder", follower.topic)
        runtime.ruleset  # noqa: B018  (loads the folder when nothing was published; raises if invalid)
        follower.start()

    @app.before_consuming
    def read_committed_offsets() -> None:
        """Follow the group's committed offsets: dedupe rings track each event until it is committed."""
        runtime.committed.start()

    async def ingest_agent(stream: Any) -> AsyncIterator[None]:
        batches = ingest(
            stream,
            lambda: runtime.pipeline,
            deliver,
            runtime.metrics,
            settings.batch_size,
            settings.batch_within_s,
            settings.batch_quiet_s,
        )
        async for _ in batches:
            yield None

    app.agent(input_topic(app, settings.partitions), name="ingest")(ingest_agent)

    cadence = timer_config(settings)  # replay takes its checks with the same one

    async def silence_timer() -> None:
        await silence_checks(runtime.checks, cadence, deliver, runtime.metrics)

    app.timer(interval=settings.check_interval_s, name="silence_checks")(silence_timer)
    register_pages(app, runtime)
    return app
