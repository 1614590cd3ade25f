"""The worker: the one module that builds the Faust app and registers its agents, hooks and pages.

Everything is built by ``build_worker(settings)`` from the settings the entry point read; the
agents themselves (agents/) never import the app, so there is no import cycle and importing
any module reads no environment.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from agents.decode import utc_now
from agents.ingest import ingest
from agents.lag import ConsumerLag
from agents.outputs import OutputRecord
from agents.overdue import OVERDUE_INTERVAL_S, measure_overdue
from agents.timer import silence_checks
from streams.app import App, create_app
from streams.config import timer_config
from streams.control.follower import RulesFollower
from streams.kafka.admin import bootstrap_of
from streams.kafka.delivery import send_all
from streams.kafka.lag import LAG_INTERVAL_S, partition_offsets
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
    for name in topics:  # each topic's send errors show from the start, at 0 (increase() needs it)
        runtime.metrics.send_errors.labels(name)

    async def deliver(outputs: Sequence[OutputRecord]) -> None:
        """Send every output and wait until the broker has them all (failures counted by topic)."""
        await send_all(topics, outputs, runtime.metrics)

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
        """Input events in batches: profiles, rules, outputs."""
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

    lag = ConsumerLag(runtime.metrics.consumer_lag)

    async def consumer_lag() -> None:
        lag.update(partition_offsets(app.consumer))

    app.timer(interval=LAG_INTERVAL_S, name="consumer_lag")(consumer_lag)

    async def silence_overdue() -> None:
        await measure_overdue(runtime.redis.client, runtime.metrics, utc_now())

    app.timer(interval=OVERDUE_INTERVAL_S, name="silence_overdue")(silence_overdue)
    register_pages(app, runtime)
    return app
