"""The staff page in a real browser: headless Chromium logs in to a real worker's page, opens a
customer with two accounts from the worker's Redis, and sees the card, the money-flow chart, the
timeline, what was sent and the explanation with the values the API gives; without a login the data
is refused, and the page says so.

The screenshot goes to a temporary path always, and to ``SIGNALBANK_SCREENSHOT`` (``make
screenshot``: docs/img/customer-page.png) when that is set.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schemas.catalog import CUSTOMERS, INTERACTIONS, TRANSACTIONS
from streams.dev.embedded import EmbeddedRedis
from tests.support.kafka_io import produce
from tests.support.staff_page import (
    StaffWorker,
    chromium,
    chromium_or_skip,
    full_page_screenshot,
    get_json,
    headers_of,
    logged_in_worker,
    wait_for,
    wait_until_read,
)

USER, TOKEN = "rm.jansen", "staff-page-token"
CUSTOMER = "C-STAFF-1"
NOW = datetime.now(UTC).replace(microsecond=0)
Message = tuple[str, bytes, bytes]


def event(topic: str, n: int, days_ago: float, **body: Any) -> Message:
    body = {
        "event_id": f"{CUSTOMER}-{n}",
        "customer_id": CUSTOMER,
        "occurred_at": (NOW - timedelta(days=days_ago)).isoformat(),
        **body,
    }
    return topic, CUSTOMER.encode(), json.dumps(body).encode()


def pay(n: int, days_ago: float, account: str, kind: str, amount: str, balance: str, **more: Any) -> Message:
    return event(
        TRANSACTIONS,
        n,
        days_ago,
        account_id=f"{CUSTOMER}-{account}",
        kind=kind,
        amount=amount,
        currency="EUR",
        channel="mobile",
        balance_after=balance,
        **more,
    )


def story() -> list[Message]:
    """Two accounts (current and savings), salaries, card spend, fees, two complaints (one open)."""
    messages = [
        event(
            CUSTOMERS,
            1,
            80,
            birth_date="1984-05-02",
            opened_at=(NOW - timedelta(days=2000)).isoformat(),
            segment="retail",
            marketing_consent=True,
        ),
        pay(2, 75, "CUR", "salary_credit", "3100.00", "4200.00"),
        pay(3, 45, "CUR", "salary_credit", "3100.00", "5100.00"),
        pay(4, 15, "CUR", "salary_credit", "3100.00", "5900.00"),
        pay(5, 60, "SAV", "deposit", "2000.00", "12000.00"),
        pay(6, 12, "SAV", "withdrawal", "1500.00", "10500.00"),
        pay(7, 9, "CUR", "fee", "25.00", "5875.00"),
        event(INTERACTIONS, 8, 8, kind="complaint_opened", channel="call_centre", reference="CMP-1"),
        event(INTERACTIONS, 9, 6, kind="complaint_resolved", channel="call_centre", reference="CMP-1"),
        event(INTERACTIONS, 10, 7, kind="complaint_opened", channel="branch", reference="CMP-2"),
        event(INTERACTIONS, 11, 1, kind="login", channel="mobile"),
    ]
    messages += [
        pay(20 + i, 70 - 3 * i, "CUR", "card_payment", f"{40 + i}.50", f"{4000 - i}.00") for i in range(20)
    ]
    return messages


@pytest.fixture
def worker(redis_server: EmbeddedRedis) -> Iterator[StaffWorker]:
    chromium_or_skip()  # before the servers start: nothing to wait for without a browser
    with logged_in_worker(redis_server, USER, TOKEN) as running:
        yield running


def text(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def shown(driver: Any, css: str) -> bool:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, css)
    return bool(found) and bool(found[0].is_displayed())


def log_in(driver: Any, user: str, token: str) -> None:
    from selenium.webdriver.common.by import By

    wait_for(lambda: shown(driver, "#login"), "the login form")
    for css, value in (("#login-user", user), ("#login-token", token)):
        field = driver.find_element(By.CSS_SELECTOR, css)
        field.clear()
        field.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "#login-submit").click()


def open_customer(driver: Any, customer: str) -> None:
    from selenium.webdriver.common.by import By

    wait_for(lambda: shown(driver, "#search"), "the search form")
    field = driver.find_element(By.CSS_SELECTOR, "#customer-id")
    field.clear()
    field.send_keys(customer)
    driver.find_element(By.CSS_SELECTOR, "#open-customer").click()
    wait_for(lambda: shown(driver, "#customer"), "the customer")


def test_staff_log_in_open_a_customer_and_see_card_chart_timeline_and_explanation(
    worker: StaffWorker, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    started = time.monotonic()
    messages = story()
    produce(worker.bootstrap, messages)
    wait_until_read(worker.process, len(messages))
    base = worker.base
    # what the API gives, to compare the page with (and the API refuses without a login)
    refused_status, refused_body = get_json(f"{base}/customers/{CUSTOMER}")
    assert refused_status == 401 and set(refused_body) == {"error"}
    view = wait_for(lambda: _complete(base), "the customer's profile with every event")
    # the customer declines the first offer made: the page shows the answer beside it
    offers = [o for o in view["outputs"] if o["kind"] == "offer"]
    assert offers, view["outputs"]
    answer = event(INTERACTIONS, 99, 0, kind="offer_declined", channel="mobile", reference=offers[0]["id"])
    produce(worker.bootstrap, [answer])
    view = wait_for(lambda: _answered(base, offers[0]["id"]), "the offer's response in the view")
    profile = view["profile"]
    # the page runs only its own script; customer data is never cached
    policy = headers_of(f"{base}/staff/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert headers_of(f"{base}/customers/{CUSTOMER}/flows", TOKEN)["Cache-Control"] == "no-store"
    assert profile["complaints_open"] == 1 and profile["marketing_consent"] is True
    # the total relationship balance: each account's latest balance by event time, summed
    assert (profile["balance_last"], profile["accounts_count"]) == (5875.0 + 10500.0, 2)

    with chromium() as driver:
        driver.get(f"{base}/staff/")
        # a wrong token is refused, and the page says so
        log_in(driver, USER, "not-the-token")
        wait_for(lambda: "Refused (401)" in text(driver, "#notice"), "the refusal")
        assert not shown(driver, "#customer")
        log_in(driver, USER, TOKEN)
        wait_for(lambda: text(driver, "#who-user") == USER, "the logged-in user")
        open_customer(driver, CUSTOMER)
        # what the API answers right after the page read it (the worker's timer may add an output)
        view = get_json(f"{base}/customers/{CUSTOMER}", TOKEN)[1]
        explanation = get_json(f"{base}/customers/{CUSTOMER}/explain", TOKEN)[1]
        flows = get_json(f"{base}/customers/{CUSTOMER}/flows", TOKEN)[1]
        profile = view["profile"]

        # the card
        assert text(driver, "#card-id") == CUSTOMER
        assert text(driver, "#card-consent") == "yes"
        assert text(driver, "#card-complaints").startswith("1 open (oldest CMP-2")
        assert text(driver, "#card-balance").startswith("16,375.00 across 2 accounts (largest 10,500.00")
        assert text(driver, "#card-value").startswith(f"{profile['value_score']:.1f} / 100")
        tier = view["tier"]
        assert text(driver, "#card-tier").startswith(f"{tier['tier']} (rank" if tier else "none yet")
        tags = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#card-tags li.chip .tag")]
        assert tags == view["tags"] and "salary_payer" in tags
        assert view["churn"]["level"] in text(driver, "#card-churn")

        # the chart: one SVG group per stored bucket, carrying the API's figures
        points = driver.find_elements(By.CSS_SELECTOR, "#flows-chart svg g.point")
        assert len(points) == len(flows["points"]) and sum(p["days"] for p in flows["points"]) >= 90
        drawn = {(p.get_attribute("data-start"), float(p.get_attribute("data-inflow") or 0)) for p in points}
        assert drawn == {(p["start"], p["inflow"]) for p in flows["points"]}
        salary_day = (NOW - timedelta(days=15)).date().isoformat()
        assert (salary_day, 3100.0) in drawn  # within the daily buckets
        assert flows["inflow_total"] == 3 * 3100.0 + 2000.0
        assert len(driver.find_elements(By.CSS_SELECTOR, "#flows-chart svg rect.in")) >= 4
        assert len(driver.find_elements(By.CSS_SELECTOR, "#flows-chart svg rect.out")) >= 10

        # the timeline and what was sent, newest first, as the API lists them
        rows = [_cells(row) for row in driver.find_elements(By.CSS_SELECTOR, "#timeline-rows tr")]
        timeline = view["timeline"]
        assert len(rows) == len(timeline) > 0
        assert [row[1:] for row in rows] == [[e["kind"], e["summary"] or e["id"]] for e in timeline]
        assert rows[0][0] == _when(timeline[0]["at"])  # newest first: the offer's answer
        sent = [_cells(row) for row in driver.find_elements(By.CSS_SELECTOR, "#outputs-rows tr")]
        assert len(sent) == len(view["outputs"]) > 0
        assert {row[1] for row in sent} >= {"churn alert", "offer"}
        declined = next(
            row for row, o in zip(sent, view["outputs"], strict=True) if o["id"] == offers[0]["id"]
        )
        assert declined[1:] == ["offer", offers[0]["summary"], "declined"]

        # the explanation: every rule with the values it read
        churn_rules = {row.get_attribute("data-rule"): row for row in _verdict_rows(driver, 0)}
        assert set(churn_rules) == {rule["id"] for rule in explanation["churn"]}
        fired = [rule for rule in explanation["churn"] if rule["fired"]]
        assert any(rule["id"] == "churn.repeated_complaints" for rule in fired)
        for rule in fired:
            row = churn_rules[rule["id"]]
            assert "fired" in (row.get_attribute("class") or "")
            reads = row.find_elements(By.CSS_SELECTOR, "ul.reads li")
            assert [li.text.strip() for li in reads] == [
                f"{k} = {_shown(v)}".strip() for k, v in rule["reads"].items()
            ]
        assert f"level {explanation['level']}" in text(driver, "#explain-summary")

        screenshot = tmp_path / "customer-page.png"
        full_page_screenshot(driver, screenshot)
        assert screenshot.stat().st_size > 10_000
        wanted = os.environ.get("SIGNALBANK_SCREENSHOT")
        if wanted:
            Path(wanted).parent.mkdir(parents=True, exist_ok=True)
            Path(wanted).write_bytes(screenshot.read_bytes())

        # a login that stops working mid-session: the reads are refused and the page says so
        revoked = json.dumps({"user": USER, "token": "revoked"})
        driver.execute_script("sessionStorage.setItem('signalbank.login', arguments[0])", revoked)
        open_customer_refused(driver)
    assert time.monotonic() - started < 60


def open_customer_refused(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "#open-customer").click()
    wait_for(lambda: "Refused (401)" in text(driver, "#notice"), "the refusal of the customer's data")
    assert not shown(driver, "#customer") and shown(driver, "#login")
    assert not driver.find_elements(By.CSS_SELECTOR, "#flows-chart svg")  # nothing of the data is left


def _verdict_rows(driver: Any, group: int) -> list[Any]:
    from selenium.webdriver.common.by import By

    groups = driver.find_elements(By.CSS_SELECTOR, "#explain-groups .group")
    return list(groups[group].find_elements(By.CSS_SELECTOR, "tbody tr"))


def _cells(row: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [str(td.text) for td in row.find_elements(By.TAG_NAME, "td")]


def _when(iso: str) -> str:
    """A time as the page writes it (app.js ``when``): to the minute, in UTC."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")


def _answered(base: str, offer_id: str) -> dict[str, Any] | None:
    status, view = get_json(f"{base}/customers/{CUSTOMER}", TOKEN)
    responses = {o["id"]: o["response"] for o in view["outputs"]} if status == 200 else {}
    return view if responses.get(offer_id) == "declined" else None


def _shown(value: Any) -> str:
    """A value as the page writes it (app.js ``shown``)."""
    if value is None:
        return "\u2013"  # an en dash
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _complete(base: str) -> dict[str, Any] | None:
    """The customer's view once the profile holds the whole story (its batches may be split)."""
    status, view = get_json(f"{base}/customers/{CUSTOMER}", TOKEN)
    if status != 200:
        return None
    profile = view["profile"]
    return view if profile.get("complaints_open") == 1 and profile.get("login_count_7d") == 1 else None
