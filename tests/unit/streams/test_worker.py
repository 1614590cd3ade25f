"""The worker as ``build_worker`` assembles it: one ingest agent on the input topics, the silence-check
timer at the settings' interval, the start-up hooks in order, the web pages; building it connects
nothing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rules.load.problems import RulesetError
from schemas.catalog import INPUT_TOPICS
from streams.app import App, create_app
from streams.dev.embedded import EmbeddedKafka
from streams.runtime import Runtime
from streams.settings import Settings
from streams.worker import build_worker
from tests.support.rule_texts import BROKEN
from tests.unit.streams.loopback import connections, listening, port_of

PAGES = {
    "/metrics",
    "/healthz",
    "/readyz",
    "/customers/{customer_id}",
    "/customers/{customer_id}/explain",
    "/customers/{customer_id}/flows",
    "/session",
    "/openapi.json",
    "/",
    "/staff",
    "/staff/",
    "/staff/{name}",
}


def routes(app: App) -> set[str]:
    return {route.resource.canonical for route in app.web.web_app.router.routes()}  # type: ignore[attr-defined]


def test_one_ingest_agent_reads_every_input_topic_with_the_settings_partitions() -> None:
    app = build_worker(Settings(app_id="worker-agents-test", partitions=3))
    assert list(app.agents) == ["ingest"]
    channel = app.agents["ingest"].channel
    assert tuple(channel.topics) == INPUT_TOPICS
    assert channel.partitions == 3


def test_building_the_worker_connects_nothing() -> None:
    with listening() as listener:
        port = port_of(listener)
        settings = Settings(
            app_id="worker-lazy-test",
            redis_url=f"redis://127.0.0.1:{port}/0",
            kafka_url=f"kafka://127.0.0.1:{port}",
        )
        runtime = Runtime(settings)
        build_worker(settings, runtime)
        assert connections(listener) == 0
    assert not runtime.has_ruleset


def test_the_silence_timer_runs_checks_at_the_settings_interval(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(app_id="worker-timer-test", redis_url=redis_url, check_interval_s=2.5)
    runtime = Runtime(settings)
    app = build_worker(settings, runtime)
    ticks: list[tuple[float, str | None]] = []

    async def one_tick(interval: float, name: str | None = None, **_: Any) -> AsyncIterator[float]:
        ticks.append((interval, name))
        yield interval

    monkeypatch.setattr(app, "itertimer", one_tick)
    tasks = {task.__name__: task for task in app._app_tasks}
    assert set(tasks) == {"silence_timer", "consumer_lag", "silence_overdue"}
    timer = tasks["silence_timer"]

    async def tick() -> None:
        try:
            await timer()
        finally:
            await runtime.redis.aclose()

    asyncio.run(tick())
    assert ticks == [(2.5, "silence_checks")]
    registry = runtime.metrics.registry
    # the tick ran a round of checks on the runtime's Redis: took the due customers (none)
    assert registry.get_sample_value("signalbank_redis_call_seconds_count", {"operation": "take_due"}) == 1.0
    assert registry.get_sample_value("signalbank_redis_up") == 1.0


def test_start_up_hooks_follow_the_rules_then_the_committed_offsets() -> None:
    app = build_worker(Settings(app_id="worker-hooks-test"))
    assert [hook.__name__ for hook in app._startup_hooks] == [
        "follow_published_rules",
        "read_committed_offsets",
    ]


def test_an_invalid_rules_folder_stops_the_worker_before_it_consumes(
    kafka_server: EmbeddedKafka, tmp_path: Path
) -> None:
    (tmp_path / "seen.yaml").write_text(BROKEN)
    settings = Settings(app_id="worker-invalid-rules-test", kafka_url=kafka_server.url, rules_dir=tmp_path)
    runtime = Runtime(settings)
    app = build_worker(settings, runtime)
    follow_published_rules = app._startup_hooks[0]
    with pytest.raises(RulesetError, match=r"unknown field profile\.nope"):
        follow_published_rules()
    assert "rules-follower" not in {t.name for t in threading.enumerate()}
    assert not runtime.has_ruleset


def test_the_pages_are_the_workers_own_on_top_of_fausts() -> None:
    settings = Settings(app_id="worker-pages-test")
    assert routes(build_worker(settings)) - routes(create_app(settings)) == PAGES
