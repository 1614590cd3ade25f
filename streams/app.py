"""The Faust application, built from the settings: no agents, no connections (see streams/worker.py)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import faust
from faust.types import ChannelT, EventT
from faust.types.transports import TransportT
from mode.utils.locks import Event

from streams.kafka.transport import transport_class
from streams.settings import Settings

StartupHook = Callable[[], None]
log = logging.getLogger(__name__)


def freeze_start_up_objects() -> int:
    """Collect, then move every object alive to the collector's permanent generation; returns how many.

    What exists once the worker has started (modules, Faust, pydantic models, the compiled ruleset)
    lives as long as the process, yet every full collection traversed it: about 185,000 objects, and
    full collections paused the event loop for 80-250 ms every few seconds (measured with gc callbacks
    in a worker at 800 events/s), each pause a latency spike for every event waiting behind it. Frozen,
    they are no longer traversed (full collections then took 17-43 ms over the ~40,000 objects left);
    they are still freed when their last reference goes, only a reference cycle among them would stay.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class Stream(faust.Stream[Any]):
    """Faust's stream plus ``take_ready``: batches that go as soon as nothing more is arriving."""

    async def take_ready(self, max_: int, within: float, quiet: float) -> AsyncIterator[list[EventT[Any]]]:
        """Batches of at most ``max_`` events; each goes when it is full, when no event arrived for
        ``quiet`` seconds, or ``within`` seconds after the caller asked for it with an event in it
        (whichever is first).

        Faust's ``take_events(max_, within)`` starts its ``within`` wait only once the previous batch
        has been processed and waits it out whatever is already buffered, unless ``max_`` events
        arrive: below full load every batch waited the whole window, idle, after the worker's own
        processing time (measured: 50 ms of every cycle, and most of the latency at half load).
        Here the next batch fills while the current one is processed, and a worker that is free
        waits only until the events stop coming (``quiet``): fetched events arrive in bursts, one
        every fetch, so a short gap means the burst is over. Under a backlog the events keep coming
        and batches still fill to ``max_``.

        As in ``take_events``, events are acknowledged (their offsets become committable) only when
        the caller asks for the next batch, that is after it has finished with this one; events
        buffered meanwhile for the next batch are not.
        """
        loop = asyncio.get_running_loop()
        buffer: list[EventT[Any]] = []
        arrived, full, room = Event(), Event(), Event()

        async def add_to_buffer(value: Any) -> Any:
            if len(buffer) >= max_:  # the next batch is full: wait until it is taken
                room.clear()
                await self.wait(room)
            event = self.current_event
            if event is None:
                raise RuntimeError("take_ready found no current event")
            arrived.set()
            buffer.append(event)
            if len(buffer) >= max_:
                full.set()
            return value

        self.enable_acks = False  # acknowledged below, once the caller is done with a batch
        self.add_processor(add_to_buffer)
        self._enable_passive(cast(ChannelT[Any], aiter(self.channel)))  # as take_events does
        while not self.should_stop:
            if not buffer:
                await self.wait_for_stopped(arrived, timeout=1.0)
                continue
            deadline = loop.time() + within
            while len(buffer) < max_:
                left = deadline - loop.time()
                if left <= 0:
                    break
                seen = len(buffer)
                await self.wait_for_stopped(full, timeout=min(quiet, left))
                if len(buffer) == seen:
                    break
            batch = buffer[:max_]
            del buffer[:max_]
            full.clear()
            if not buffer:
                arrived.clear()
            room.set()
            try:
                yield batch
            finally:
                for event in batch:
                    await self.ack(event)


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
        if self._startup_hooks:  # a worker (other commands have none): its start-up is done
            log.info("%d start-up objects moved out of the collector's reach", freeze_start_up_objects())


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
        producer_linger_ms=0,  # a batch waits for its outputs' acks: a linger only delays the next
        stream_buffer_maxsize=max(4096, settings.batch_size * 4),
        Stream=Stream,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
