"""The staff page's side of the worker's web server: its files open and locked down (no data, a
strict content security policy), the OpenAPI document generated from the types, the flows endpoint
and the login check behind a login and audited like the other customer pages."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import fields
from pathlib import Path

from openapi_spec_validator import validate

from agents.flows import Flows
from agents.lookup import CustomerView
from schemas.inputs import InputEvent, TransactionKind
from schemas.profile.fields import PROFILE_FIELDS
from streams.web import STAFF_FILES
from tests.support.profile_events import apply, tx
from tests.support.redis_state import make_state
from tests.unit.streams.test_web import TOKEN, get, runtime_on

BASIC = {"Authorization": "Basic " + base64.b64encode(f"alice:{TOKEN}".encode()).decode()}


def test_the_staff_page_files_are_served_without_a_login_and_locked_down(
    redis_url: str, tmp_path: Path
) -> None:
    runtime = runtime_on(redis_url, tmp_path)
    page, script, style, other, root, bare = get(
        runtime, "/staff/", "/staff/app.js", "/staff/app.css", "/staff/../web.py", "/", "/staff", headers={}
    )
    assert page.status == 200 and page.content_type.startswith("text/html")
    assert b'<script src="app.js"' in page.body and b"<script>" not in page.body  # no inline script
    assert script.status == 200 and script.content_type.startswith("text/javascript")
    assert b"innerHTML" not in script.body  # values are set as text, never parsed as HTML
    assert style.status == 200 and style.content_type.startswith("text/css")
    assert other.status == 404
    for redirected in (root, bare):  # to staff/, relative
        assert redirected.status == 200 and redirected.body == page.body
    assert set(STAFF_FILES) == {"index.html", "app.js", "app.css", "icon.svg"}


def test_the_openapi_document_is_generated_from_the_types(redis_url: str, tmp_path: Path) -> None:
    [answer] = get(runtime_on(redis_url, tmp_path), "/openapi.json", headers={})
    document = answer.json()
    assert answer.status == 200 and document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in (
        "/customers/{customer_id}",
        "/customers/{customer_id}/explain",
        "/customers/{customer_id}/flows",
    ):
        responses = paths[path]["get"]["responses"]
        assert {"200", "401", "403", "404"} <= set(responses)
    schemas = document["components"]["schemas"]
    for kind in (CustomerView, Flows):
        assert set(schemas[kind.__name__]["properties"]) == {f.name for f in fields(kind)}
    assert set(schemas["Profile"]["properties"]) == {spec.name for spec in PROFILE_FIELDS}
    assert schemas["Profile"]["properties"]["marketing_consent"]["type"] == "boolean"
    assert "Explanation" in schemas and "RuleVerdict" in schemas
    validate(document)  # a valid OpenAPI 3.1 document, by the reference validator


def test_flows_need_a_login_and_are_audited(redis_url: str, tmp_path: Path) -> None:
    events: list[InputEvent] = [
        tx(1, 1, TransactionKind.SALARY_CREDIT, "1800.00"),
        tx(2, 3, TransactionKind.CARD_PAYMENT, "42.10"),
    ]
    asyncio.run(apply(make_state(redis_url), events))
    audit = tmp_path / "audit.jsonl"
    path = "/customers/C1/flows?at=2026-01-10T12:00Z"
    [shown] = get(
        runtime_on(redis_url, tmp_path, audit_log=audit), path, "/customers/NOBODY/flows", headers=BASIC
    )[:1]
    [refused] = get(runtime_on(redis_url, tmp_path, audit_log=audit), path, headers={})
    flows = shown.json()
    assert shown.status == 200 and (flows["inflow_total"], flows["outflow_total"]) == (1800.0, 42.1)
    assert flows["points"][-1]["start"] == "2026-01-10" and sum(p["days"] for p in flows["points"]) >= 90
    assert refused.status == 401 and "points" not in refused.json()
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(r["user"], r["customer_id"], r["endpoint"], r["outcome"]) for r in records] == [
        ("alice", "C1", "flows", 200),
        ("alice", "NOBODY", "flows", 404),
        ("anonymous", "C1", "flows", 401),
    ]


def test_the_login_check_names_the_user_and_refuses_a_wrong_one(redis_url: str, tmp_path: Path) -> None:
    runtime = runtime_on(redis_url, tmp_path)
    [bearer] = get(runtime, "/session")
    [basic] = get(runtime_on(redis_url, tmp_path), "/session", headers=BASIC)
    wrong_user = {"Authorization": "Basic " + base64.b64encode(f"bob:{TOKEN}".encode()).decode()}
    [wrong] = get(runtime_on(redis_url, tmp_path), "/session", headers=wrong_user)
    assert (bearer.status, bearer.json()) == (200, {"user": "alice"})
    assert (basic.status, basic.json()) == (200, {"user": "alice"})
    assert wrong.status == 401 and wrong.authenticate.startswith("Bearer")
