"""The Faust application, built from the settings: no agents, no connections (see streams/worker.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import faust
from faust.types.transports import TransportT

from streams.kafka.transport import transport_class
from streams.settings import Settings

StartupHook = Callable[[], None]


class App(faust.App):
    """Faust's app plus ``before_consuming`` hooks.

    They run in the worker once, after logging is set up and before the app's consumer starts (so
    before the group join and the first event); not for other commands, unlike ``on_worker_init``.
    """

    def __init__(self, settings: Settings, *args: Any, fetch_max_wait_ms: int = 1500, **kwargs: Any) -> None:
        self._transport_class = transport_class(fetch_max_wait_ms)
        super().__init__(*args, **kwargs)
        self.settings = settings  # the entry point's settings, for the commands run under this app
        self._startup_hooks: list[StartupHook] = []

    def _new_transport(self) -> TransportT:
        """Our transport (a shorter fetch wait), for the broker URL Faust would have used."""
        return self._transport_class(self.conf.broker_consumer, self)

    def before_consuming(self, hook: StartupHook) -> StartupHook:
        """Decorator: run ``hook`` (blocking work is fine: in a thread) before consuming starts."""
        self._startup_hooks.append(hook)
        return hook

    def _create_directories(self) -> None:
        """Also the parents: Faust makes only the last level, and a fresh ``SIGNALBANK_DATA_DIR``
        like ``/var/lib/signalbank/w1`` would stop the worker at start-up."""
        self.conf.datadir.mkdir(parents=True, exist_ok=True)
        super()._create_directories()

    async def on_first_start(self) -> None:
        await super().on_first_start()
        for hook in self._startup_hooks:
            await asyncio.to_thread(hook)


def create_app(settings: Settings) -> App:
    """Faust app configured for at-least-once processing with short group timeouts."""
    return App(
        settings,
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
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
