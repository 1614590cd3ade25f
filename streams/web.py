"""Web endpoints on the worker's Faust web server: metrics, health, a customer's view and its explanation.

Metrics and health are open; the customer pages need a login (``streams.access``) and every read of
one, allowed or refused, is written to the audit log.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from prometheus_client import generate_latest

from agents.lookup import customer_view, explain_customer
from rules.tools.explain import parse_at
from sinks.redis.client import RedisClient, connect, ping
from streams.access import Access, Auditor, Verdict, audit_record, authenticate, parse_tokens
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

    settings = runtime.settings
    access = Access(parse_tokens(settings.web_tokens), settings.web_trusted_header)
    auditor = Auditor(settings.audit_log)

    def refused(web: Any, verdict: Verdict) -> Any:
        headers = {"WWW-Authenticate": 'Bearer realm="signalbank"'} if verdict.status == 401 else None
        return web.json({"error": verdict.message}, status=verdict.status, headers=headers)

    async def answer(web: Any, request: Any, customer_id: str, endpoint: str) -> Any:
        """Log in, read as of now (or ``?at=ISO``), audit the outcome; the body is never logged."""
        verdict = authenticate(request.headers, access)
        if not verdict.allowed:
            auditor.write(audit_record(verdict.user, customer_id, endpoint, verdict.status))
            return refused(web, verdict)
        try:
            now_ms = parse_at(request.query.get("at"))
        except ValueError as exc:
            auditor.write(audit_record(verdict.user, customer_id, endpoint, 400))
            return web.json({"error": str(exc)}, status=400)
        store, ruleset, model = runtime.redis.profiles, runtime.ruleset, runtime.churn_model
        if endpoint == "explain":
            found: Any = await explain_customer(store, ruleset, customer_id, now_ms, model)
        else:
            found = await customer_view(store, ruleset, customer_id, now_ms, model)
        status = 404 if found is None else 200
        auditor.write(audit_record(verdict.user, customer_id, endpoint, status))
        if found is None:
            return web.json({"error": f"no profile for {customer_id}"}, status=404)
        return web.json(found.as_json())

    @app.page("/customers/{customer_id}")
    async def customer(web: Any, request: Any, customer_id: str) -> Any:
        """The customer as of now (or ``?at=ISO``): profile, stored tier, churn score."""
        return await answer(web, request, customer_id, "profile")

    @app.page("/customers/{customer_id}/explain")
    async def customer_explain(web: Any, request: Any, customer_id: str) -> Any:
        """Every rule with the values it read, as a silence check now (or at ``?at=ISO``) would see it."""
        return await answer(web, request, customer_id, "explain")
