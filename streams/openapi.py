"""The OpenAPI document of the worker's web pages, served at /openapi.json.

Response schemas are generated from the types the pages return (pydantic's ``TypeAdapter`` on the
dataclasses) and the profile's fields from the field catalogue, so the document cannot drift from
what is sent; only the paths, parameters and prose are written here. Built on first request.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter

from agents.flows import FLOW_DAYS, Flows
from agents.lookup import CustomerView
from rules.tools.explain import Explanation
from schemas.profile.fields import PROFILE_FIELDS, FieldType

OPENAPI_VERSION = "3.1.0"
_REF = "#/components/schemas/{model}"
_JSON_TYPES: dict[FieldType, dict[str, Any]] = {
    "int": {"type": "integer"},
    "double": {"type": "number"},
    "string": {"type": "string"},
    "bool": {"type": "boolean"},
    "list": {"type": "array", "items": {"type": "string"}},
}
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string", "description": "why, in words; never customer data"}},
    "required": ["error"],
}
_SESSION = {
    "type": "object",
    "properties": {"user": {"type": "string", "description": "the logged-in user, as audited"}},
    "required": ["user"],
}


def _profile_schema() -> dict[str, Any]:
    """The profile rules read, one property per catalogue field (more may be present)."""
    return {
        "type": "object",
        "description": "The profile as rules read it (docs/rules.md lists every field).",
        "properties": {
            spec.name: {**_JSON_TYPES[spec.type], "description": spec.description} for spec in PROFILE_FIELDS
        },
        "additionalProperties": True,
    }


def _schemas() -> dict[str, Any]:
    adapters: list[tuple[str, Any]] = [
        ("CustomerView", CustomerView),
        ("Explanation", Explanation),
        ("Flows", Flows),
    ]
    _, definitions = TypeAdapter.json_schemas(
        [(name, "serialization", TypeAdapter(kind)) for name, kind in adapters], ref_template=_REF
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    view = schemas["CustomerView"]
    view["properties"]["profile"] = {"$ref": _REF.format(model="Profile")}
    schemas["Profile"] = _profile_schema()
    schemas["Error"] = _ERROR
    schemas["Session"] = _SESSION
    return schemas


def _answer(description: str, model: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model=model)}}},
    }


_REFUSED = {
    "401": _answer("no login, or a wrong one (WWW-Authenticate: Bearer)", "Error"),
    "403": _answer("no login is configured on this worker: customer data is never served", "Error"),
}


def _customer_path(summary: str, description: str, model: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "description": description + " Every read, allowed or refused, is written to the audit log.",
            "security": [{"bearer": []}, {"basic": []}],
            "parameters": [
                {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "string"}},
                {
                    "name": "at",
                    "in": "query",
                    "required": False,
                    "description": "ISO 8601 time to read the customer as of (default: now)",
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                "200": _answer(summary, model),
                "400": _answer("`at` is not an ISO 8601 time", "Error"),
                **_REFUSED,
                "404": _answer("no profile for this customer", "Error"),
            },
        }
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process, on first request)."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "signalbank worker: customer pages",
            "version": "1",
            "description": (
                "What a worker's web server answers. Customer data needs a login: "
                "`Authorization: Bearer <token>` (or `Basic base64(user:token)`, as the staff page at "
                "/staff/ sends), or a trusted header set by a reverse proxy (docs/operations.md, "
                "'Access to customer data'). /metrics, /healthz, /readyz, the staff page's files and "
                "this document are open."
            ),
        },
        "paths": {
            "/customers/{customer_id}": _customer_path(
                "The customer as of now (or `at`)",
                "The profile rules read, the stored tier, the churn score now, and what else the view "
                "holds (tags, timeline, outputs).",
                "CustomerView",
            ),
            "/customers/{customer_id}/explain": _customer_path(
                "Every rule with the values it read",
                "As a silence check now (or at `at`) would judge the customer.",
                "Explanation",
            ),
            "/customers/{customer_id}/flows": _customer_path(
                f"Money in and out over {FLOW_DAYS} days",
                "One point per stored bucket: daily for the last 30 days up to the latest event, weekly "
                "before; totals as the profile's inflow_90d and outflow_90d.",
                "Flows",
            ),
            "/session": {
                "get": {
                    "summary": "Who the login is (the staff page's login check)",
                    "security": [{"bearer": []}, {"basic": []}],
                    "responses": {"200": _answer("logged in", "Session"), **_REFUSED},
                }
            },
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `signalbank web token`",
                },
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "user:token, the token that user's",
                },
            },
        },
    }
