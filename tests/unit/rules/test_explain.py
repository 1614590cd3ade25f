"""Explain: every rule with the values it read, from a profile, from Redis by CLI and by the web page."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rules.load.ruleset import Ruleset
from rules.tools.case_context import complete_event, complete_profile
from rules.tools.explain import Explanation, explain, parse_at, render_text
from schemas.common import Channel
from schemas.inputs import Transaction, TransactionKind
from schemas.profile.bgnbd import BgNbdParams
from schemas.profile.delta import build_update
from sinks.redis.state import RedisState
from streams.access import token_line
from streams.settings import Settings
from tests.support.churn_models import use_rules_only
from tests.support.redis_state import make_state

DAY0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
AT = DAY0 + timedelta(days=70)  # 40 days after the second salary


def by_id(explanation: Explanation) -> dict[str, Any]:
    verdicts: dict[str, Any] = {v.id: v for v in (*explanation.churn, *explanation.signals)}
    verdicts.update({v.id: v for v in explanation.offers})
    return verdicts


LEAVING = {
    "customer_id": "C9",
    "marketing_consent": True,
    "salary_count_90d": 3,
    "salary_amount_90d": 9000,
    "days_since_salary": 40,
    "outflow_other_bank_30d": 5000,
    "inflow_90d": 9000,
    "balance_last": 10,
    "balance_avg_90d": 5000,
}


def test_explain_lists_every_rule_with_the_values_it_read(ruleset: Ruleset) -> None:
    result = explain(ruleset, complete_profile(LEAVING), complete_event({"kind": "login"}))
    verdicts = by_id(result)
    suitability = {f"{v.id}#suitable" for v in result.offers}
    assert set(verdicts) | {v.id for v in result.tiers} | suitability == {
        c.rule_id for c in ruleset.conditions
    }
    stopped = verdicts["churn.salary_stopped"]
    assert stopped.fired and stopped.reads == {"profile.salary_count_90d": 3, "profile.days_since_salary": 40}
    assert stopped.message == "No salary for 40 days after 3 salaries in 90 days"
    assert not verdicts["churn.dormant"].fired
    assert verdicts["churn.dormant"].reads == {"profile.days_since_activity": 9999}
    fired = [v for v in result.churn if v.fired]
    assert [v.id for v in result.churn[: len(fired)]] == [v.id for v in fired]  # fired first
    weights = {r.id: r.weight for r in ruleset.churn_rules}
    remaining = 1.0
    for verdict in fired:
        remaining *= 1 - weights[verdict.id]
    assert result.score == pytest.approx(1 - remaining)
    assert result.level in ("high", "critical") and result.action
    assert result.top_reason == max(fired, key=lambda v: weights[v.id]).id
    assert result.tags == ()


def test_explain_gives_the_offer_decision(ruleset: Ruleset) -> None:
    leaving = by_id(explain(ruleset, complete_profile(LEAVING), complete_event({"kind": "login"})))
    card = leaving["offer.credit_card_gold"]
    assert (card.eligible, card.triggered, card.decision, card.suppressed_reason) == (
        True,
        True,
        "suppressed",
        "churn_risk",
    )
    assert leaving["offer.retention_fee_waiver"].decision == "chosen"
    assert leaving["offer.term_deposit_12m"].decision == "not eligible"

    loyal = {**LEAVING, "days_since_salary": 3, "outflow_other_bank_30d": 0, "balance_last": 5000}
    explained = explain(ruleset, complete_profile(loyal), complete_event({}))  # silence check
    assert by_id(explained)["offer.credit_card_gold"].decision == "not triggered"
    assert explained.chosen == () and explained.tags == ("salary_payer",)
    on_login = explain(ruleset, complete_profile(loyal), complete_event({"kind": "login"}))
    assert on_login.chosen == ("offer.credit_card_gold",) and on_login.level == "none"


def test_text_rendering_names_fired_rules_and_values(ruleset: Ruleset) -> None:
    text = render_text(explain(ruleset, complete_profile(LEAVING), complete_event({})))
    assert "customer C9" in text and "silence check" in text
    assert any(
        line.split()[:2] == ["FIRED", "churn.salary_stopped"] and "profile.days_since_salary=40" in line
        for line in text.splitlines()
    )
    assert "offer: offer.retention_fee_waiver" in text


def test_parse_at() -> None:
    assert parse_at("2026-03-11T09:00:00Z") == int(datetime(2026, 3, 11, 9, tzinfo=UTC).timestamp() * 1000)
    assert parse_at("2026-03-11T09:00:00") == parse_at("2026-03-11T09:00:00+00:00")
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_at("yesterday")


# --- against Redis ---------------------------------------------------------------------------------


def salary(n: int, day: int) -> Transaction:
    return Transaction(
        event_id=f"s{n}",
        customer_id="C1",
        occurred_at=DAY0 + timedelta(days=day),
        account_id="A1",
        kind=TransactionKind.SALARY_CREDIT,
        amount=Decimal("3100.00"),
        currency="EUR",
        channel=Channel.WEB,
        counterparty_bank="DEUTSCHE",
        balance_after=Decimal("4000.00"),
    )


@pytest.fixture
def stored_customer(redis_url: str) -> Iterator[str]:
    """C1 was paid on day 0 and day 30, then nothing: by day 70 the salary has stopped."""

    async def load() -> None:
        state = make_state(redis_url)
        try:
            await state.profiles.apply(
                [build_update(salary(n, day), "SIGNALBANK") for n, day in enumerate((0, 30))]
            )
        finally:
            await state.aclose()

    asyncio.run(load())
    yield redis_url


def signalbank(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIGNALBANK_REDIS_URL": redis_url}
    return subprocess.run(
        [sys.executable, "-m", "streams", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_cli_explains_a_stored_customer_as_json(
    stored_customer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the rules' own level here; the fitted model's score: tests/unit/agents/test_lookup.py
    use_rules_only(tmp_path, monkeypatch)
    result = signalbank(stored_customer, "rules", "explain", "C1", "--at", AT.isoformat(), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    churn = {v["id"]: v for v in data["churn"]}
    assert churn["churn.salary_stopped"]["fired"] is True
    assert churn["churn.salary_stopped"]["reads"] == {
        "profile.salary_count_90d": 2,
        "profile.days_since_salary": 40,
    }
    assert data["level"] == "elevated" and data["event"]["type"] == "check"


def test_cli_explain_before_the_salary_stopped_and_as_a_table(stored_customer: str) -> None:
    early = (DAY0 + timedelta(days=35)).isoformat()
    result = signalbank(stored_customer, "rules", "explain", "C1", "--at", early)
    assert result.returncode == 0, result.stderr
    assert "churn score 0.0000, level none" in result.stdout
    assert "tags: salary_payer" in result.stdout


def test_cli_explain_unknown_customer_fails(redis_url: str) -> None:
    result = signalbank(redis_url, "rules", "explain", "NOBODY")
    assert result.returncode == 1
    assert "no profile for NOBODY" in result.stderr


TOKEN = "explain-test-token"
LOGIN = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class _Runtime:
    """What the explain page reads from the worker's runtime."""

    redis: RedisState
    ruleset: Ruleset
    churn_model: BgNbdParams | None = None
    settings: Settings = field(default_factory=lambda: Settings(web_tokens=token_line("analyst", TOKEN)))


def test_web_page_explains_a_stored_customer(
    stored_customer: str, ruleset: Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from streams.app import create_app
    from streams.web import register_pages

    async def call() -> list[tuple[int, dict[str, Any]]]:
        state = make_state(stored_customer)
        app = create_app(Settings(app_id="explain-page-test"))
        register_pages(app, _Runtime(state, ruleset))  # type: ignore[arg-type]
        client = TestClient(TestServer(app.web.web_app))  # type: ignore[attr-defined]
        await client.start_server()
        answers = []
        try:
            for path in (f"/customers/C1/explain?at={AT.isoformat()}", "/customers/NOBODY/explain"):
                response = await client.get(path.replace("+", "%2B"), headers=LOGIN)
                answers.append((response.status, await response.json()))
        finally:
            await client.close()
            await state.aclose()
        return answers

    (status, data), (missing, error) = asyncio.run(call())
    assert status == 200
    assert [v["id"] for v in data["churn"] if v["fired"]] == ["churn.salary_stopped"]
    assert data["ruleset_version"] == ruleset.version
    assert (missing, error) == (404, {"error": "no profile for NOBODY"})


def test_a_risk_rule_is_explained_by_its_score_and_recommended_action(ruleset: Ruleset) -> None:
    profile = complete_profile({"customer_id": "C9", "hours_since_new_device": 0})
    event = complete_event({"kind": "transfer_out", "amount": 2500, "payee_new": True})
    verdict = by_id(explain(ruleset, profile, event))["risk.new_device_large_transfer"]
    assert verdict.fired and verdict.detail == "score 75, hold_payment"
    assert verdict.reads["profile.hours_since_new_device"] == 0
