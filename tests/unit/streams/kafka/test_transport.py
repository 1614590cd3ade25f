"""The transport the app uses: its worker consumers' fetches wait at most the settings' fetch wait,
which reaches aiokafka's fetcher once the consumer starts (on the embedded broker)."""

from __future__ import annotations

import asyncio
from typing import Any

from streams.app import App, create_app
from streams.dev.embedded import EmbeddedKafka
from streams.settings import Settings


async def started_fetch_wait(app: App) -> int:
    """The fetch wait of the worker consumer the app's transport makes, once started."""
    faust_consumer: Any = app.consumer
    thread = faust_consumer._new_consumer_thread()
    consumer = thread._create_worker_consumer(app.transport)
    await consumer.start()
    try:
        return int(consumer._fetcher._fetch_max_wait_ms)
    finally:
        await consumer.stop()


def test_each_apps_fetch_wait_reaches_its_started_consumers_fetcher(kafka_server: EmbeddedKafka) -> None:
    short, long = (
        create_app(Settings(app_id=f"transport-test-{ms}", kafka_url=kafka_server.url, fetch_max_wait_ms=ms))
        for ms in (50, 2500)
    )

    async def both() -> tuple[int, int]:
        return await started_fetch_wait(short), await started_fetch_wait(long)

    assert asyncio.run(both()) == (50, 2500)
