"""The Faust application: built once from the settings; ``signalbank`` is its command line."""

from __future__ import annotations

from typing import NoReturn

import faust

from agents.runtime import Runtime
from streams.settings import Settings


def create_app(settings: Settings) -> faust.App:
    """Faust app configured for at-least-once processing with short group timeouts."""
    return faust.App(
        settings.app_id,
        broker=settings.kafka_url,
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(1.0, settings.session_timeout_s / 5),
        broker_request_timeout=max(30.0, settings.session_timeout_s * 3),
        broker_commit_interval=1.0,
        web_bind=settings.web_bind,
        web_host=settings.web_bind,
        web_port=settings.web_port,
        datadir=str(settings.data_dir / "faust"),
        producer_linger_ms=5,
        stream_buffer_maxsize=max(4096, settings.batch_size * 4),
    )


settings = Settings()
app = create_app(settings)
runtime = Runtime(settings)


def main() -> NoReturn:
    """Console entry point: registers agents, pages and commands, then runs Faust's CLI."""
    import sys

    import agents.ingest
    import streams.cli
    import streams.web

    # Importing registers the agent, the web pages and our commands with Faust.
    registered = (agents.ingest.ingest, streams.web.metrics, streams.cli.dev_command)
    assert all(registered)
    if "worker" in sys.argv[1:2]:
        runtime.ruleset  # noqa: B018  (fail fast, before joining the group, if the rules are invalid)
    app.main()
