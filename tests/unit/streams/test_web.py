"""The worker's web pages on a real runtime: /metrics from the worker's own registry, /healthz and
/readyz (ready with Redis, 503 within about two seconds when Redis refuses or hangs), and a
customer's profile (404 for an unknown customer)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from schemas.common import Channel
from schemas.inputs import Interaction, InteractionKind
from schemas.profile.delta import build_update
from streams import web
from streams.app import create_app
from streams.dev.embedded import free_port
from streams.runtime import Runtime
from streams.settings import Settings
from tests.support.rule_texts import SEEN, ruleset_of, seen_folder
from tests.unit.streams.loopback import listening, port_of

SEEN_VERSION = ruleset_of(("seen.yaml", SEEN)).version


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture(autouse=True)
def fresh_ping_clients() -> Iterator[None]:
    """/readyz keeps one client per URL for the process; each test runs its own event loop."""
    web._ping_client.cache_clear()
    yield
    web._ping_client.cache_clear()


def runtime_on(redis_url: str, tmp_path: Path) -> Runtime:
    return Runtime(
        Settings(app_id="web-test", redis_url=redis_url, rules_dir=seen_folder(tmp_path), churn_model=None)
    )


def get(runtime: Runtime, *paths: str, logins: tuple[str, ...] = ()) -> list[Answer]:
    """GET ``paths`` in order from the pages on ``runtime``, after storing a login of each of ``logins``."""

    async def call() -> list[Answer]:
        app = create_app(runtime.settings)
        web.register_pages(app, runtime)
        client = TestClient(TestServer(app.web.web_app))  # type: ignore[attr-defined]
        await client.start_server()
        answers = []
        try:
            for customer in logins:
                event = Interaction(
                    event_id=f"{customer}-login",
                    customer_id=customer,
                    occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
                    kind=InteractionKind.LOGIN,
                    channel=Channel.MOBILE,
                )
                await runtime.redis.profiles.apply([build_update(event, runtime.settings.home_bank)])
            for path in paths:
                started = time.monotonic()
                response = await client.get(path)
                body = await response.read()
                answers.append(
                    Answer(
                        response.status, response.headers["Content-Type"], body, time.monotonic() - started
                    )
                )
        finally:
            await client.close()
            if "redis" in runtime.__dict__:
                await runtime.redis.aclose()
        return answers

    return asyncio.run(call())


def test_metrics_are_the_workers_registry_in_prometheus_text(redis_url: str, tmp_path: Path) -> None:
    runtime = runtime_on(redis_url, tmp_path)
    runtime.metrics.events.labels("bank.interactions.v1", "processed").inc(3)
    [page] = get(runtime, "/metrics")
    assert page.status == 200
    assert page.content_type.startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(page.body.decode())
        for s in family.samples
    }
    key = ("signalbank_events_total", (("outcome", "processed"), ("topic", "bank.interactions.v1")))
    assert samples[key] == 3.0
    assert not any(name.startswith("python_gc") for name, _ in samples)  # not the global registry


def test_healthz_names_the_active_ruleset(redis_url: str, tmp_path: Path) -> None:
    runtime = runtime_on(redis_url, tmp_path)
    [health, metrics] = get(runtime, "/healthz", "/metrics")
    assert (health.status, health.json()) == (200, {"status": "ok", "ruleset": SEEN_VERSION})
    assert f'signalbank_ruleset_info{{version="{SEEN_VERSION}"}} 1.0' in metrics.body.decode()


def test_readyz_is_ready_with_redis(redis_url: str, tmp_path: Path) -> None:
    [ready] = get(runtime_on(redis_url, tmp_path), "/readyz")
    assert (ready.status, ready.json()) == (200, {"status": "ready", "ruleset": SEEN_VERSION})


def test_readyz_is_unavailable_within_two_seconds_when_redis_refuses(tmp_path: Path) -> None:
    [refused] = get(runtime_on(f"redis://127.0.0.1:{free_port()}/0", tmp_path), "/readyz")
    assert refused.status == 503
    assert refused.json()["status"] == "unavailable" and refused.json()["redis"]
    assert refused.seconds < 2.0


def test_readyz_is_unavailable_within_two_seconds_when_redis_hangs(tmp_path: Path) -> None:
    with listening() as silent:  # accepts the connection, never answers
        [hanging] = get(runtime_on(f"redis://127.0.0.1:{port_of(silent)}/0", tmp_path), "/readyz")
    assert hanging.status == 503
    assert hanging.json()["status"] == "unavailable" and hanging.json()["redis"]
    assert hanging.seconds < 2.5


def test_a_customer_page_shows_the_stored_profile_or_404(redis_url: str, tmp_path: Path) -> None:
    runtime = runtime_on(redis_url, tmp_path)
    known, unknown, bad_time = get(
        runtime, "/customers/C1", "/customers/NOBODY", "/customers/C1/explain?at=soon", logins=("C1",)
    )
    assert known.status == 200
    profile = known.json()
    assert profile["customer_id"] == "C1"
    assert (profile["login_count_1d"], profile["login_count_90d"], profile["days_since_login"]) == (1, 1, 0)
    assert profile["p_alive"] == 1.0  # no churn model configured
    assert (unknown.status, unknown.json()) == (404, {"error": "no profile for NOBODY"})
    assert bad_time.status == 400 and "error" in bad_time.json()
