"""``signalbank profile``: a customer as of now or ``--at``; an unknown customer or an unreachable Redis
exits 1; bad settings 2. ``signalbank web token``: a token and its hash entry."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from rules.load.ruleset import Ruleset
from schemas.catalog import SIGNALS
from schemas.profile.delta import build_update
from streams.access import hash_token, parse_tokens, token_line
from tests.support.pipeline_story import process, records
from tests.support.profile_events import DAY0, login
from tests.support.redis_state import make_state
from tests.support.story import BASE
from tests.unit.streams.cli.run import nowhere, signalbank


def test_profile_of_an_unknown_customer_fails(redis_url: str) -> None:
    result = signalbank("profile", "NOBODY", env={"SIGNALBANK_REDIS_URL": redis_url})
    assert result.returncode == 1
    assert result.stderr == "Error: no profile for NOBODY\n"


def test_profile_without_redis_fails() -> None:
    result = signalbank("profile", "C1", env=nowhere())
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Redis: ")
    assert "Traceback" not in result.stderr


def test_profile_rejects_invalid_retention() -> None:
    result = signalbank("profile", "C1", env={**nowhere(), "SIGNALBANK_RETENTION_DAYS": "ninety"})
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "SIGNALBANK_RETENTION_DAYS: Input should be a valid integer, unable to parse string as an integer"
    )


def test_profile_shows_the_customer_as_of_now_or_at_a_time(redis_url: str) -> None:
    async def store() -> None:
        state = make_state(redis_url)
        try:
            await state.profiles.apply([build_update(login(1, 0), "SIGNALBANK")])
        finally:
            await state.aclose()

    asyncio.run(store())
    env = {"SIGNALBANK_REDIS_URL": redis_url}
    before = (datetime.now(UTC) - DAY0).days  # whole days elapsed, as the view counts them
    at = signalbank("profile", "C1", "--at", (DAY0 + timedelta(days=33)).isoformat(), env=env)
    now = signalbank("profile", "C1", env=env)
    assert at.returncode == now.returncode == 0, at.stderr + now.stderr
    view, current = json.loads(at.stdout), json.loads(now.stdout)
    assert view["profile"]["days_since_activity"] == 33
    quiet = {before, (datetime.now(UTC) - DAY0).days}  # a day may turn during the commands
    assert current["profile"]["days_since_activity"] in quiet  # the wall clock, not the latest event
    assert view["tier"] is None and set(view["churn"]) == {"probability", "level", "reasons"}


def test_profile_rejects_a_bad_time() -> None:
    result = signalbank("profile", "C1", "--at", "soon", env=nowhere())
    assert result.returncode == 2 and "bad time 'soon'" in result.stderr


def test_web_token_prints_a_token_and_its_hash_entry() -> None:
    result = signalbank("web", "token", "alice")
    assert result.returncode == 0, result.stderr
    token = result.stdout.splitlines()[0].rsplit(" ", 1)[1]
    entry = result.stdout.splitlines()[1].rsplit(" ", 1)[1]
    assert entry == token_line("alice", token) and parse_tokens(entry) == (("alice", hash_token(token)),)


def test_profile_prints_the_tags_the_tier_since_and_the_last_events_and_outputs(
    redis_url: str, ruleset: Ruleset
) -> None:
    process(redis_url, ruleset, [records()])  # the scripted story, through the worker's pipeline
    at = (BASE + timedelta(days=59)).isoformat()  # LOYAL: a salary payer who logs in every 4 days
    result = signalbank("profile", "LOYAL", "--at", at, env={"SIGNALBANK_REDIS_URL": redis_url})
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert "salary_payer" in view["tags"] and view["tags"] == sorted(view["tags"])
    assert view["tier"]["since"] == "2026-01-05T09:00:00Z"  # their first event
    assert [e["id"] for e in view["timeline"]][:2] == ["LOYAL-login58", "LOYAL-login54"]
    assert {"at", "kind", "id", "summary"} == set(view["timeline"][0])
    gained = [o for o in view["outputs"] if o["summary"] == "tag gained salary_payer"]
    assert [(o["topic"], o["kind"], o["response"]) for o in gained] == [(SIGNALS, "signal", None)]
