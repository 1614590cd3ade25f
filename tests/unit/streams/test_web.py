"""The worker's web pages on a real runtime: /metrics from the worker's own registry, /healthz and
/readyz (ready with Redis, 503 within about two seconds when Redis refuses or hangs), open; a
customer's view and explanation behind a login (a token or a trusted header), each read audited."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from schemas.common import Channel
from schemas.inputs import Interaction, InteractionKind
from schemas.profile.delta import build_update
from sinks.redis.keys import TIER_FIELD, cooldown_key
from streams import web
from streams.access import AUDIT_LOGGER, hash_token
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
    authenticate: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture(autouse=True)
def fresh_ping_clients() -> Iterator[None]:
    """/readyz keeps one client per URL for the process; each test runs its own event loop."""
    web._ping_client.cache_clear()
    yield
    web._ping_client.cache_clear()


TOKEN = "right-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: The day the ``logins`` of ``get`` are stored.
LOGIN_DAY = datetime(2026, 1, 5, 9, tzinfo=UTC)


def runtime_on(redis_url: str, tmp_path: Path, **settings: Any) -> Runtime:
    """A runtime whose customer pages accept ``TOKEN`` (as user "alice") unless ``settings`` say otherwise."""
    given: dict[str, Any] = {
        "app_id": "web-test",
        "redis_url": redis_url,
        "rules_dir": seen_folder(tmp_path),
        "churn_model": None,
        "web_tokens": f"alice:{hash_token(TOKEN)}",
        **settings,
    }
    return Runtime(Settings(**given))


def get(
    runtime: Runtime, *paths: str, logins: tuple[str, ...] = (), headers: dict[str, str] | None = None
) -> list[Answer]:
    """GET ``paths`` in order from the pages on ``runtime`` (with ``headers``, by default the right
    token), after storing a login of each of ``logins``."""

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
                    occurred_at=LOGIN_DAY,
                    kind=InteractionKind.LOGIN,
                    channel=Channel.MOBILE,
                )
                await runtime.redis.profiles.apply([build_update(event, runtime.settings.home_bank)])
            for path in paths:
                started = time.monotonic()
                response = await client.get(path, headers=AUTH if headers is None else headers)
                body = await response.read()
                answers.append(
                    Answer(
                        response.status,
                        response.headers["Content-Type"],
                        body,
                        time.monotonic() - started,
                        response.headers.get("WWW-Authenticate", ""),
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
        runtime,
        "/customers/C1?at=2026-01-05T12:00Z",
        "/customers/NOBODY",
        "/customers/C1/explain?at=soon",
        logins=("C1",),
    )
    assert known.status == 200
    view = known.json()
    assert (view["customer_id"], view["as_of"], view["ruleset_version"]) == (
        "C1",
        "2026-01-05T12:00:00Z",
        SEEN_VERSION,
    )
    profile = view["profile"]
    assert profile["customer_id"] == "C1"
    assert (profile["login_count_1d"], profile["login_count_90d"], profile["days_since_login"]) == (1, 1, 0)
    assert profile["p_alive"] == 1.0  # no churn model configured
    assert (unknown.status, unknown.json()) == (404, {"error": "no profile for NOBODY"})
    assert bad_time.status == 400 and "error" in bad_time.json()


def test_a_customer_is_shown_as_of_now_by_default_or_at_the_given_time(
    redis_url: str, tmp_path: Path
) -> None:
    runtime = runtime_on(redis_url, tmp_path)
    before = (datetime.now(UTC) - LOGIN_DAY).days  # whole days elapsed, as the view counts them
    now, later, explained = get(
        runtime,
        "/customers/C1",
        "/customers/C1?at=2026-02-07T09:00Z",
        "/customers/C1/explain",
        logins=("C1",),
    )
    quiet = {before, (datetime.now(UTC) - LOGIN_DAY).days}  # a day may turn during the requests
    assert min(quiet) > 300  # the login is long ago: the default is the wall clock, not the latest event
    assert now.json()["profile"]["days_since_activity"] in quiet
    assert later.json()["profile"]["days_since_activity"] == 33
    assert explained.status == 200


def test_a_customer_shows_the_stored_tier_and_the_churn_score_now(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    client.hset(cooldown_key("T1"), TIER_FIELD, "gold|2|1767600000000|tier-change-1|silver")
    client.close()
    runtime = runtime_on(redis_url, tmp_path, rules_dir=Path(web.__file__).parent.parent / "rules")
    tiered, plain = get(runtime, "/customers/T1", "/customers/C1", logins=("T1", "C1"))
    assert tiered.json()["tier"] == {
        "tier": "gold",
        "rank": 2,
        "below_since": "2026-01-05T08:00:00Z",
        "previous": "silver",
        "change_id": "tier-change-1",
        "since": None,  # a tier stored before the time of entry was kept
    }
    assert plain.json()["tier"] is None  # never judged: no tier stored
    churn = plain.json()["churn"]
    assert 0.0 < churn["probability"] <= 1.0  # quiet for a year under the shipped rules
    assert churn["level"] in {"none", "watch", "warning", "critical"}
    assert churn["reasons"] and all(isinstance(r, str) for r in churn["reasons"])


def test_customer_pages_need_a_login_and_the_health_pages_do_not(redis_url: str, tmp_path: Path) -> None:
    runtime = runtime_on(redis_url, tmp_path)
    bare, explain, metrics, health = get(
        runtime, "/customers/C1", "/customers/C1/explain", "/metrics", "/healthz", logins=("C1",), headers={}
    )
    [wrong] = get(runtime_on(redis_url, tmp_path), "/customers/C1", headers={"Authorization": "Bearer wrong"})
    for refused in (bare, explain, wrong):
        assert refused.status == 401
        assert refused.authenticate.startswith("Bearer")
        assert "error" in refused.json() and "profile" not in refused.json()
    assert (metrics.status, health.status) == (200, 200)


def test_with_no_login_configured_customer_pages_are_refused(redis_url: str, tmp_path: Path) -> None:
    runtime = runtime_on(redis_url, tmp_path, web_tokens="")
    refused, health = get(runtime, "/customers/C1", "/healthz", logins=("C1",))
    assert refused.status == 403
    assert "SIGNALBANK_WEB_TOKENS" in refused.json()["error"]
    assert health.status == 200


def test_a_trusted_header_logs_in_only_when_configured(redis_url: str, tmp_path: Path) -> None:
    proxied = {"X-Forwarded-User": "bob"}
    [allowed] = get(
        runtime_on(redis_url, tmp_path, web_tokens="", web_trusted_header="X-Forwarded-User"),
        "/customers/C1",
        logins=("C1",),
        headers=proxied,
    )
    assert allowed.status == 200 and allowed.json()["customer_id"] == "C1"
    [ignored] = get(runtime_on(redis_url, tmp_path), "/customers/C1", headers=proxied)
    assert ignored.status == 401


def test_every_customer_read_is_audited_without_its_content(
    redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    audit = tmp_path / "audit.jsonl"
    runtime = runtime_on(redis_url, tmp_path, audit_log=audit)
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        shown, _, _, _ = get(
            runtime,
            "/customers/C1",
            "/customers/C1/explain",
            "/customers/NOBODY",
            "/metrics",
            logins=("C1",),
        )
        get(runtime_on(redis_url, tmp_path, audit_log=audit), "/customers/C1", headers={})
    lines = audit.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["user"], r["customer_id"], r["endpoint"], r["outcome"]) for r in records] == [
        ("alice", "C1", "profile", 200),
        ("alice", "C1", "explain", 200),
        ("alice", "NOBODY", "profile", 404),
        ("anonymous", "C1", "profile", 401),
    ]
    assert all(set(r) == {"time", "user", "customer_id", "endpoint", "outcome"} for r in records)
    assert [r.getMessage() for r in caplog.records if r.name == AUDIT_LOGGER] == lines
    assert "login_count_1d" in shown.json()["profile"]  # what was shown ...
    for text in [*lines, caplog.text]:
        assert "login_count" not in text and "days_since" not in text and TOKEN not in text
