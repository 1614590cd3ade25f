"""The overdue figure of the silence checks, from the real schedule on Redis."""

from __future__ import annotations

from datetime import UTC, datetime

from agents.metrics import Metrics
from agents.overdue import measure_overdue, overdue_seconds
from agents.times import epoch_ms
from sinks.redis.client import RedisClient
from sinks.redis.schedule import Schedule
from streams.dev.embedded import free_port
from tests.support.redis_state import with_client

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_overdue_is_zero_when_nothing_is_due() -> None:
    now_ms = epoch_ms(NOW)
    assert overdue_seconds(None, now_ms) == 0.0
    assert overdue_seconds(now_ms + 5_000, now_ms) == 0.0
    assert overdue_seconds(now_ms - 90_500, now_ms) == 90.5


def test_the_earliest_check_over_every_shard_sets_the_gauge(redis_url: str) -> None:
    metrics = Metrics()
    now_ms = epoch_ms(NOW)

    async def body(client: RedisClient) -> list[float | None]:
        seen = []
        await measure_overdue(client, metrics, NOW)  # empty schedule
        seen.append(metrics.registry.get_sample_value("signalbank_silence_checks_overdue_seconds"))
        schedule = Schedule(client)  # customers over several shards, the earliest 120 s overdue
        await schedule.schedule({f"C{n:05d}": now_ms + 60_000 for n in range(50)})
        await schedule.schedule({"C77777": now_ms - 120_000, "C88888": now_ms - 30_000})
        await measure_overdue(client, metrics, NOW)
        seen.append(metrics.registry.get_sample_value("signalbank_silence_checks_overdue_seconds"))
        return seen

    assert with_client(redis_url, body) == [0.0, 120.0]
    assert metrics.registry.get_sample_value("signalbank_redis_up") == 1  # an idle worker shows Redis up


def test_an_unreachable_redis_leaves_the_figure_as_it_was_and_shows_redis_down() -> None:
    metrics = Metrics()
    metrics.silence_overdue.set(42)
    metrics.redis_up.set(1)

    async def body(client: RedisClient) -> None:
        await measure_overdue(client, metrics, NOW)

    with_client(f"redis://127.0.0.1:{free_port()}/0", body)
    assert metrics.registry.get_sample_value("signalbank_silence_checks_overdue_seconds") == 42
    assert metrics.registry.get_sample_value("signalbank_redis_up") == 0
