"""Logins to the customer pages and their audit records (pure): hashed tokens, the trusted header,
refusal when nothing is configured, and audit lines that carry who/which/when only."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.access import (
    ANONYMOUS,
    Access,
    Auditor,
    Verdict,
    audit_record,
    authenticate,
    hash_token,
    new_token,
    parse_tokens,
    token_line,
    user_of_basic,
    user_of_token,
)
from streams.settings import Settings

ALICE = hash_token("alice-secret")
BOB = hash_token("bob-secret")


def test_a_token_is_stored_as_its_sha256_and_new_ones_differ() -> None:
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
    first, second = new_token(), new_token()
    assert first != second and len(first) >= 40
    assert token_line("alice", first) == f"alice:{hash_token(first)}"
    assert first not in token_line("alice", first)


def test_token_pairs_are_parsed_and_malformed_ones_refused() -> None:
    assert parse_tokens(f" alice:{ALICE} , bob:{BOB.upper()},") == (("alice", ALICE), ("bob", BOB))
    assert parse_tokens("") == ()
    for bad in ("alice", f"alice{ALICE}", "alice:1234", f":{ALICE}", f"alice:{'g' * 64}"):
        with pytest.raises(ValueError, match="not user:sha256hex"):
            parse_tokens(bad)


def test_settings_refuse_a_malformed_token_entry() -> None:
    with pytest.raises(ValidationError, match="not user:sha256hex"):
        Settings(web_tokens="alice:not-a-hash")


def test_a_token_names_its_user() -> None:
    tokens = parse_tokens(f"alice:{ALICE},bob:{BOB}")
    assert user_of_token("bob-secret", tokens) == "bob"
    assert user_of_token("carol-secret", tokens) is None
    assert user_of_token(ALICE, tokens) is None  # the hash itself is no login


def test_requests_are_allowed_with_a_right_token_and_refused_otherwise() -> None:
    access = Access(parse_tokens(f"alice:{ALICE}"))
    allowed = authenticate({"Authorization": "Bearer alice-secret"}, access)
    assert (allowed.allowed, allowed.user, allowed.status) == (True, "alice", 200)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic YWxpY2U6eA=="}):
        verdict = authenticate(headers, access)
        assert (verdict.allowed, verdict.user, verdict.status) == (False, ANONYMOUS, 401)
    assert authenticate({"X-Forwarded-User": "alice"}, access).status == 401  # no header trusted


def basic(user: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def test_a_user_and_their_token_log_in_as_basic_and_anything_else_is_refused() -> None:
    access = Access((("alice", ALICE), ("bob", BOB)))
    assert authenticate(basic("alice", "alice-secret"), access) == Verdict("alice", 200)
    assert user_of_basic(base64.b64encode(b"bob:bob-secret").decode(), access.tokens) == "bob"
    for wrong in (
        basic("bob", "alice-secret"),  # a right token, of another user
        basic("carol", "alice-secret"),
        basic("alice", "wrong"),
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Basic " + base64.b64encode(b"alice-secret").decode()},  # no user
    ):
        verdict = authenticate(wrong, access)
        assert (verdict.user, verdict.status) == (ANONYMOUS, 401)


def test_a_trusted_header_names_the_user_only_when_configured() -> None:
    proxied = Access(trusted_header="X-Forwarded-User")
    assert authenticate({"X-Forwarded-User": " bob "}, proxied).user == "bob"
    assert authenticate({"X-Forwarded-User": ""}, proxied).status == 401
    both = Access(parse_tokens(f"alice:{ALICE}"), "X-Forwarded-User")
    assert authenticate({"Authorization": "Bearer wrong", "X-Forwarded-User": "bob"}, both).status == 401


def test_with_no_login_configured_everything_is_refused() -> None:
    verdict = authenticate({"Authorization": "Bearer anything", "X-Forwarded-User": "bob"}, Access())
    assert (verdict.status, verdict.user) == (403, ANONYMOUS)
    assert "SIGNALBANK_WEB_TOKENS" in verdict.message


def test_an_audit_record_is_one_json_line_of_who_which_when(tmp_path: Path) -> None:
    record = audit_record("alice", "C1", "profile", 200, datetime(2026, 3, 1, 9, tzinfo=UTC))
    assert json.loads(record.line()) == {
        "time": "2026-03-01T09:00:00.000+00:00",
        "user": "alice",
        "customer_id": "C1",
        "endpoint": "profile",
        "outcome": 200,
    }
    path = tmp_path / "audit.jsonl"
    auditor = Auditor(path)
    auditor.write(record)
    auditor.write(audit_record(ANONYMOUS, "C2", "explain", 401))
    assert [json.loads(line)["customer_id"] for line in path.read_text().splitlines()] == ["C1", "C2"]
