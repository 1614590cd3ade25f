"""Where and how events are made: added without changing any other field of any event."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from schemas.catalog import TRANSACTIONS
from streams.sim.event import SimEvent
from streams.sim.generator import generate
from streams.sim.places import HOME_COUNTRY, Place, distance_km, travel_seconds
from streams.sim.scenario import Scenario
from streams.sim.truth import GroundTruth

ORIGIN_FIELDS = frozenset(
    {
        "device_id",
        "ip_country",
        "merchant_country",
        "city",
        "latitude",
        "longitude",
        "payee_id",
        "auth_method",
        "auth_outcome",
    }
)
OWN = re.compile(r"^C\d{6}-(\d{6}|X\d{5})$")
"""Ids of the customers' own events and broken messages; extra events (typos R, fraud F) differ."""
SMALL = Scenario(customers=60, days=90, seed=5, start=datetime(2025, 6, 1, tzinfo=UTC))
BEFORE_ORIGINS = (20340, "3e7cbf89a6d4bd74417f1b57820289fd0ecd400d82408fe6980ee873ff9d801c")
"""``_digest`` of SMALL (with and without broken messages) as generated at commit 53b4a33, before
the simulator knew the origin fields (computed by running that commit's generator)."""


def _stripped(event: SimEvent) -> str | None:
    """The event as it was before origins: None for an extra event, else a canonical line."""
    try:
        body = json.loads(event.value)
    except ValueError:
        body = None
    if isinstance(body, dict):
        if not OWN.match(str(body.get("event_id"))):
            return None
        line = json.dumps({k: v for k, v in body.items() if k not in ORIGIN_FIELDS}, sort_keys=True)
    else:
        line = event.value.hex()
    return f"{event.topic}|{event.customer_id}|{event.occurred_at.isoformat()}|{event.valid}|{line}"


def _digest(scenario: Scenario) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for invalid_ratio in (0.0, 0.02):
        for event in generate(replace(scenario, invalid_ratio=invalid_ratio)):
            line = _stripped(event)
            if line is not None:
                digest.update(line.encode() + b"\n")
                count += 1
    return count, digest.hexdigest()


def test_the_events_before_origins_are_unchanged_but_for_the_new_fields() -> None:
    assert _digest(SMALL) == BEFORE_ORIGINS
    assert _digest(replace(SMALL, origins=False)) == BEFORE_ORIGINS


def test_origins_off_and_on_differ_only_in_the_new_fields_and_the_extra_events() -> None:
    scenario = replace(SMALL, customers=150, fraud_share=0.2, invalid_ratio=0.01)
    on = list(generate(scenario))
    off = list(generate(replace(scenario, origins=False)))
    assert [_stripped(e) for e in off] == [s for e in on if (s := _stripped(e)) is not None]
    extra = [json.loads(e.value) for e in on if _stripped(e) is None]
    assert {"-R" in b["event_id"] for b in extra} == {True, False}  # typos and fraud
    for event in off:
        if event.valid:
            body = json.loads(event.value)
            assert all(body.get(name) is None for name in ORIGIN_FIELDS)
    located = [json.loads(e.value) for e in on if e.valid and _stripped(e) is not None]
    assert sum(b.get("device_id") is not None for b in located) > 0.3 * len(located)


def _own_events(events: list[SimEvent]) -> dict[str, list[dict[str, Any]]]:
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        body = json.loads(event.value)
        if "-F" not in body["event_id"] and body.get("type") != "customer":
            by_customer[event.customer_id].append(body)
    return by_customer


def test_customers_have_a_few_devices_a_home_and_stable_payees(events: list[SimEvent]) -> None:
    customers = _own_events(events)
    devices_per_customer = []
    payments = payees = 0
    for cid, bodies in customers.items():
        devices = {b["device_id"] for b in bodies if b.get("device_id")}
        devices_per_customer.append(len(devices))
        assert len(devices) <= 4, cid  # phone, tablet, browser, a new phone
        cities = [b["city"] for b in bodies if b.get("city") and b.get("merchant_country", "DE") == "DE"]
        if cities:
            home = max(set(cities), key=cities.count)
            assert cities.count(home) > 0.5 * len(cities), cid  # lives somewhere
        transfers = [b for b in bodies if b.get("kind") == "transfer_out"]
        assert all(b["payee_id"] for b in transfers), cid
        payments += len(transfers)
        payees += len({b["payee_id"] for b in transfers})
        for bank in {b["counterparty_bank"] for b in transfers}:  # a payee banks at one bank
            assert not {b["payee_id"] for b in transfers if b["counterparty_bank"] == bank} & {
                b["payee_id"] for b in transfers if b["counterparty_bank"] != bank
            }
    assert payees < 0.7 * payments  # usual payees: the landlord, own accounts, a few friends per bank
    assert 1 <= sorted(devices_per_customer)[len(devices_per_customer) // 2] <= 3


def test_card_payments_abroad_only_on_trips_and_never_faster_than_travel(events: list[SimEvent]) -> None:
    customers = _own_events(events)
    abroad = 0
    for cid, bodies in customers.items():
        last: tuple[datetime, Place] | None = None
        for body in bodies:
            if body.get("latitude") is None:
                continue
            at = datetime.fromisoformat(body["occurred_at"])
            country = body.get("merchant_country") or body.get("ip_country") or HOME_COUNTRY
            place = Place(country, body["city"], body["latitude"], body["longitude"])
            if country != HOME_COUNTRY:
                abroad += 1
            if last is not None and distance_km(last[1], place) > 300:
                gap = (at - last[0]).total_seconds()
                assert gap >= travel_seconds(last[1], place) / 2, (cid, body["event_id"])  # on the way
            last = (at, place)
    assert abroad > 0
    payments = [json.loads(e.value) for e in events if e.topic == TRANSACTIONS]
    pos = [b for b in payments if b.get("channel") == "pos" and "-F" not in b["event_id"]]
    assert all(b["merchant_country"] for b in pos)
    assert 0.005 < sum(b["merchant_country"] != HOME_COUNTRY for b in pos) / len(pos) < 0.15


def test_a_failed_login_is_a_typo_followed_by_the_login(events: list[SimEvent]) -> None:
    bodies = [json.loads(e.value) for e in events if e.valid]
    typos = [b for b in bodies if "-R" in b.get("event_id", "")]
    logins = [b for b in bodies if b.get("kind") == "login" and "-R" not in b["event_id"]]
    assert typos and len(typos) < 0.05 * len(logins)
    successes = defaultdict(list)
    for body in logins:
        successes[body["customer_id"]].append(body)
    for typo in typos:
        assert typo["auth_outcome"] == "failed" and typo["auth_method"] == "password"
        at = datetime.fromisoformat(typo["occurred_at"])
        after = [
            b
            for b in successes[typo["customer_id"]]
            if 0 <= (datetime.fromisoformat(b["occurred_at"]) - at).total_seconds() <= 40
        ]
        assert any(b["device_id"] == typo["device_id"] and b["auth_outcome"] == "success" for b in after)


def test_the_truth_names_the_new_phones_and_trips_the_events_show(
    events: list[SimEvent], truth: dict[str, GroundTruth]
) -> None:
    customers = _own_events(events)
    phones = trips = 0
    for cid, facts in truth.items():
        lookalikes = facts.get("lookalikes", [])
        away = [(item["on"], item["until"]) for item in lookalikes if item["kind"] == "trip_abroad"]
        for body in customers[cid]:
            country = body.get("merchant_country") or body.get("ip_country")
            day = datetime.fromisoformat(body["occurred_at"]).date()
            if country not in (None, HOME_COUNTRY) and body.get("channel") == "pos":
                assert any(on <= day <= until for on, until in away), (cid, body["event_id"])
        trips += bool(away)
        for item in lookalikes:
            if item["kind"] != "new_phone":
                continue
            mine = customers[cid]
            apps = [(b["occurred_at"], b["device_id"]) for b in mine if b.get("channel") == "mobile"]
            before = {d for at, d in apps if datetime.fromisoformat(at).date() < item["on"] and d}
            after = {d for at, d in apps if datetime.fromisoformat(at).date() > item["on"] and d}
            if before and after:
                phones += 1
                assert after - before, cid  # a device never used before
    assert phones > 0 and trips > 0
