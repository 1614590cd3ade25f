"""Baseline 3, the framework's floor under our worker: the worker's own Faust app taking the same
batches as the worker's ingest agent, and doing nothing with them.

The app is ``streams/app.py``'s ``create_app`` (our transport and fetch wait, stream buffers,
commit interval), the topic the worker's raw-bytes input topic, and the agent
``stream.take_events(batch_size, within=batch_within_s)`` as in ``agents/ingest.py``, with the batch
size and window from the same ``SIGNALBANK_*`` settings the workers read. Each batch is only
counted, so what it costs is Faust's: fetching, dispatching each message, buffering and batching.
Our worker can only be slower than this; the benchmark prints how much.

Started by ``bench/e2e.py`` as ``python -m bench.faust_take worker``; nothing to run by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from bench.progress import BaselineSettings, Progress
from streams.app import create_app
from streams.dev.embedded import free_port
from streams.kafka.topics import input_topic
from streams.settings import Settings


def main() -> None:
    """Build the app from the settings (at run time, never at import) and run Faust's command line."""
    settings = BaselineSettings()
    worker = Settings().model_copy(  # batch size, window, partitions and fetch wait as a worker reads them
        update={
            "app_id": settings.app_id,
            "kafka_url": settings.kafka_url,
            "redis_url": settings.redis_url,
            "data_dir": settings.data_dir,
            "web_port": free_port(),
        }
    )
    app = create_app(worker)
    progress = Progress(settings.expected, settings.result_path)

    @app.agent(input_topic(app, worker.partitions), name="take")
    async def take(stream: Any) -> AsyncIterator[None]:
        """The worker's batches (same size and window), only counted."""
        async for batch in stream.take_events(worker.batch_size, within=worker.batch_within_s):
            progress.tick(len(batch))
            yield None

    app.main()


if __name__ == "__main__":
    main()
