"""Web endpoints on the worker's Faust web server: metrics, health, a profile lookup and its explanation."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from prometheus_client import generate_latest

from agents.lookup import explain_customer, read_profile
from rules.tools.explain import parse_at
from sinks.redis.client import RedisClient, connect, ping
from streams.app import App
from streams.runtime import Runtime

#: Prometheus text format; aiohttp refuses a charset inside content_type, and UTF-8 is the default.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4"
#: /readyz answers within about this long even when Redis is down or hanging.
READY_TIMEOUT_S = 1.0


@cache
def _ping_client(url: str) -> RedisClient:
    """A client of its own for /readyz: short timeouts and no retries, unlike the store's client
    (whose retries with backoff would keep a probe waiting for many seconds during an outage).
    On a cluster, ready only when every master answers (``ping``)."""
    return connect(url, retries=0, timeout_s=READY_TIMEOUT_S, connect_timeout_s=READY_TIMEOUT_S)


def register_pages(app: App, runtime: Runtime) -> None:
    """Add the pages to the app's web server; they read the worker's runtime."""

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(runtime.metrics.registry), content_type=PROMETHEUS_CONTENT_TYPE)

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok", "ruleset": runtime.ruleset.version})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S * 2):
                await ping(_ping_client(runtime.settings.redis_url))
        except Exception as exc:  # refused, reset, timed out: not ready, and say why
            return web.json({"status": "unavailable", "redis": str(exc) or type(exc).__name__}, status=503)
        return web.json({"status": "ready", "ruleset": runtime.ruleset.version})

    @app.page("/customers/{customer_id}")
    async def customer(web: Any, request: Any, customer_id: str) -> Any:
        profile = await read_profile(runtime.redis.profiles, customer_id, runtime.churn_model)
        if profile is None:
            return web.json({"error": f"no profile for {customer_id}"}, status=404)
        return web.json(profile)

    @app.page("/customers/{customer_id}/explain")
    async def customer_explain(web: Any, request: Any, customer_id: str) -> Any:
        """Every rule with the values it read, as a silence check now (or at ``?at=ISO``) would see it."""
        try:
            now_ms = parse_at(request.query.get("at"))
        except ValueError as exc:
            return web.json({"error": str(exc)}, status=400)
        explanation = await explain_customer(
            runtime.redis.profiles, runtime.ruleset, customer_id, now_ms, runtime.churn_model
        )
        if explanation is None:
            return web.json({"error": f"no profile for {customer_id}"}, status=404)
        return web.json(explanation.as_json())
