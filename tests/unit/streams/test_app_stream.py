"""The app's stream batches (``Stream.take_ready``) on a real Faust stream over an in-memory channel:
a batch goes once nothing more arrives, not after a window; it holds at most ``max_`` events; events
arriving while a batch is processed make the next one; a batch is acknowledged only when the next
is asked for; a stream that keeps trickling is cut ``within`` after the caller asked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, cast

from faust.types import EventT, Message

from streams.app import App, Stream, create_app
from streams.settings import Settings

Batches = list[tuple[float, list[int]]]  # (seconds since start, the values of one batch)
Step = Callable[[Stream, list[EventT[Any]]], Awaitable[None]]
Feed = Callable[[Any], Coroutine[Any, Any, None]]


def value_of(event: EventT[Any]) -> int:
    return int(cast(bytes, event.value))


def app_of(tmp_path: Path) -> App:
    app = create_app(Settings(data_dir=tmp_path, app_id="take-ready-test"))
    app.flow_control.resume()  # what a started consumer does; a paused flow skips every event
    return app


async def put(app: App, channel: Any, values: range) -> None:
    for value in values:
        message = Message(
            topic="in",
            partition=0,
            offset=value,
            timestamp=time.time(),
            timestamp_type=0,
            headers=None,
            key=None,
            value=str(value).encode(),
            checksum=None,
            generation_id=app.consumer_generation_id,
        )
        await channel.put(await channel.decode(message))


async def take(
    app: App,
    max_: int,
    within: float,
    quiet: float,
    count: int,
    feed: Feed,
    step: Step | None = None,
) -> Batches:
    """Run ``take_ready`` until ``count`` events came out, ``feed`` putting them into the channel."""
    channel = app.channel()
    stream = app.stream(channel)
    assert isinstance(stream, Stream)
    batches: Batches = []
    started = time.monotonic()

    async def consume() -> None:
        taken = 0
        async for batch in stream.take_ready(max_, within=within, quiet=quiet):
            batches.append((time.monotonic() - started, [value_of(e) for e in batch]))
            if step is not None:
                await step(stream, batch)
            taken += len(batch)
            if taken >= count:
                return

    async with stream:
        feeding = asyncio.create_task(feed(channel))
        await asyncio.wait_for(consume(), timeout=10)
        await feeding
    return batches


def test_a_burst_goes_as_one_batch_once_it_stops_not_after_the_window(tmp_path: Path) -> None:
    app = app_of(tmp_path)

    async def feed(channel: Any) -> None:
        await put(app, channel, range(20))

    batches = asyncio.run(take(app, 500, within=5.0, quiet=0.01, count=20, feed=feed))
    assert [values for _, values in batches] == [list(range(20))]
    assert batches[0][0] < 1.0  # the window (5 s) was not waited out


def test_a_batch_holds_at_most_max_events(tmp_path: Path) -> None:
    app = app_of(tmp_path)

    async def feed(channel: Any) -> None:
        await put(app, channel, range(7))

    batches = asyncio.run(take(app, 3, within=5.0, quiet=0.05, count=7, feed=feed))
    assert [values for _, values in batches] == [[0, 1, 2], [3, 4, 5], [6]]


def test_events_arriving_during_a_batch_make_the_next_and_acks_follow_the_caller(tmp_path: Path) -> None:
    app = app_of(tmp_path)
    acked: list[int] = []
    log: list[str] = []

    async def feed(channel: Any) -> None:
        await put(app, channel, range(3))

    async def step(stream: Stream, batch: list[EventT[Any]]) -> None:
        if not log:
            original = stream.ack

            async def ack(event: EventT[Any]) -> bool:
                acked.append(value_of(event))
                return await original(event)

            stream.ack = ack  # type: ignore[method-assign]
            await put(app, stream.channel, range(3, 6))  # arrive while the first batch is processed
            await asyncio.sleep(0.05)
            log.append(f"acked while the first was processed: {acked}")
        log.append(f"batch {[value_of(e) for e in batch]} acked before it: {sorted(acked)}")

    asyncio.run(take(app, 500, within=5.0, quiet=0.01, count=6, feed=feed, step=step))
    assert log == [
        "acked while the first was processed: []",
        "batch [0, 1, 2] acked before it: []",
        "batch [3, 4, 5] acked before it: [0, 1, 2]",
    ]


def test_a_stream_that_keeps_trickling_is_cut_within_after_the_ask(tmp_path: Path) -> None:
    app = app_of(tmp_path)

    async def feed(channel: Any) -> None:
        for value in range(60):
            await put(app, channel, range(value, value + 1))
            await asyncio.sleep(0.01)  # never quiet for 0.05 s

    batches = asyncio.run(take(app, 500, within=0.2, quiet=0.05, count=60, feed=feed))
    assert len(batches) >= 2
    assert [v for _, values in batches for v in values] == list(range(60))
    assert all(len(values) < 40 for _, values in batches)  # about 20 events per 0.2 s
