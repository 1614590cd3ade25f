"""Web endpoints on the worker's Faust web server: metrics, health, the staff page, a customer's data.

Metrics, health, the staff page's files (``streams/webui``: HTML, script and style, no data) and the
OpenAPI document are open; a customer's view, explanation and flows need a login (``streams.access``)
and every read of one, allowed or refused, is written to the audit log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources
from typing import Any

from prometheus_client import generate_latest

from agents.flows import read_flows
from agents.lookup import customer_view, explain_customer
from rules.tools.explain import parse_at
from sinks.redis.client import RedisClient, connect, ping
from streams.access import Access, Auditor, Verdict, audit_record, authenticate, parse_tokens
from streams.app import App
from streams.openapi import openapi_document
from streams.runtime import Runtime

#: Prometheus text format; aiohttp refuses a charset inside content_type, and UTF-8 is the default.
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4"
#: /readyz answers within about this long even when Redis is down or hanging.
READY_TIMEOUT_S = 1.0
#: Where the staff page is served; its files are in streams/webui, shipped as package data.
STAFF_PATH = "/staff/"
#: Where / and /staff send a browser: relative, so that it holds behind a proxy's path prefix too.
STAFF_REDIRECT = "staff/"
#: The staff page's files by name, with their content types (nothing else is served from there).
STAFF_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
    "icon.svg": "image/svg+xml",
}
#: The page runs its own files only: no inline script, no other origin, no framing.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
#: Reads one customer's data as of a time (ms); None when there is no profile.
Reader = Callable[[str, int], Awaitable[Any]]
#: Customer data is never kept by a browser or a proxy.
DATA_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@cache
def staff_file(name: str) -> str:
    """One of ``STAFF_FILES`` as text (read on first request, then kept)."""
    if name not in STAFF_FILES:
        raise KeyError(name)
    return (resources.files("streams") / "webui" / name).read_text(encoding="utf-8")


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
        headers = {**DATA_HEADERS}
        if verdict.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="signalbank"'
        return web.json({"error": verdict.message}, status=verdict.status, headers=headers)

    async def read_view(customer_id: str, now_ms: int) -> Any:
        # the whole Redis state: the view reads the tags and timeline beside the profile
        return await customer_view(runtime.redis, runtime.ruleset, customer_id, now_ms, runtime.churn_model)

    async def read_explanation(customer_id: str, now_ms: int) -> Any:
        store, model = runtime.redis.profiles, runtime.churn_model
        return await explain_customer(store, runtime.ruleset, customer_id, now_ms, model)

    async def read_money(customer_id: str, now_ms: int) -> Any:
        return await read_flows(runtime.redis.client, customer_id, now_ms)

    async def answer(web: Any, request: Any, customer_id: str, endpoint: str, read: Reader) -> Any:
        """Log in, read as of now (or ``?at=ISO``), audit the outcome; the body is never logged."""
        verdict = authenticate(request.headers, access)
        if not verdict.allowed:
            auditor.write(audit_record(verdict.user, customer_id, endpoint, verdict.status))
            return refused(web, verdict)
        try:
            now_ms = parse_at(request.query.get("at"))
        except ValueError as exc:
            auditor.write(audit_record(verdict.user, customer_id, endpoint, 400))
            return web.json({"error": str(exc)}, status=400, headers=DATA_HEADERS)
        found = await read(customer_id, now_ms)
        status = 404 if found is None else 200
        auditor.write(audit_record(verdict.user, customer_id, endpoint, status))
        if found is None:
            return web.json({"error": f"no profile for {customer_id}"}, status=404, headers=DATA_HEADERS)
        return web.json(found.as_json(), headers=DATA_HEADERS)

    @app.page("/customers/{customer_id}")
    async def customer(web: Any, request: Any, customer_id: str) -> Any:
        """The customer as of now (or ``?at=ISO``): profile, stored tier, churn score."""
        return await answer(web, request, customer_id, "profile", read_view)

    @app.page("/customers/{customer_id}/explain")
    async def customer_explain(web: Any, request: Any, customer_id: str) -> Any:
        """Every rule with the values it read, as a silence check now (or at ``?at=ISO``) would see it."""
        return await answer(web, request, customer_id, "explain", read_explanation)

    @app.page("/customers/{customer_id}/flows")
    async def customer_flows(web: Any, request: Any, customer_id: str) -> Any:
        """Money in and out per stored day (or week) over the 90 days up to now (or ``?at=ISO``)."""
        return await answer(web, request, customer_id, "flows", read_money)

    @app.page("/session")
    async def session(web: Any, request: Any) -> Any:
        """Who the login is: the staff page checks a login here before it reads any customer."""
        verdict = authenticate(request.headers, access)
        if not verdict.allowed:
            return refused(web, verdict)
        return web.json({"user": verdict.user}, headers=DATA_HEADERS)

    @app.page("/openapi.json")
    async def openapi(web: Any, request: Any) -> Any:
        return web.json(openapi_document())

    def page_file(web: Any, name: str) -> Any:
        try:
            text = staff_file(name)
        except (KeyError, FileNotFoundError):
            return web.json({"error": "not found"}, status=404)
        return web.text(text, content_type=STAFF_FILES[name], headers=PAGE_HEADERS)

    @app.page("/")
    async def root(web: Any, request: Any) -> Any:
        """The staff page is what a browser opening the worker's address wants."""
        return web.text("", status=302, headers={"Location": STAFF_REDIRECT})

    @app.page(STAFF_PATH.rstrip("/"))
    async def staff_bare(web: Any, request: Any) -> Any:
        return web.text("", status=302, headers={"Location": STAFF_REDIRECT})

    @app.page(STAFF_PATH)
    async def staff_page(web: Any, request: Any) -> Any:
        """The staff page (no data: it reads the customer endpoints with the login it is given)."""
        return page_file(web, "index.html")

    @app.page(STAFF_PATH + "{name}")
    async def staff_asset(web: Any, request: Any, name: str) -> Any:
        return page_file(web, name)
