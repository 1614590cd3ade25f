"""Each customer's own behaviour: what is new for them, how far from their usual, how fast, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from schemas.common import Channel
from schemas.inputs import InputEvent, Interaction, InteractionKind, Transaction, TransactionKind
from schemas.profile import behaviour
from schemas.profile.behaviour import BEHAVIOUR_FIELD, NEVER_HOURS, TABLE_SIZE, Facts
from schemas.profile.delta import build_update

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def payment(n: int, at: datetime, amount: str = "40.00", **where: Any) -> Transaction:
    return Transaction(
        event_id=f"t{n}",
        customer_id="C1",
        occurred_at=at,
        account_id="A1",
        kind=where.pop("kind", TransactionKind.CARD_PAYMENT),
        amount=Decimal(amount),
        currency="EUR",
        channel=where.pop("channel", Channel.MOBILE),
        **where,
    )


def login(n: int, at: datetime, failed: bool = False, **where: Any) -> Interaction:
    return Interaction(
        event_id=f"l{n}",
        customer_id="C1",
        occurred_at=at,
        kind=InteractionKind.LOGIN,
        channel=Channel.MOBILE,
        auth_outcome="failed" if failed else "success",
        **where,
    )


class Customer:
    """One customer's behaviour field, events applied to it as the profile state does."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def see(self, event: InputEvent) -> Facts:
        update = build_update(event, "SIGNALBANK")
        [(_, _, text)] = [op for op in update.ops if op[0] == behaviour.BEHAVIOUR_OP]
        return behaviour.apply(self.fields, text, update.ts_ms, event.event_id)

    def profile(self, at: datetime) -> dict[str, Any]:
        read: dict[str, Any] = {}
        behaviour.add_behaviour(read, self.fields, int(at.timestamp() * 1000))
        return read


def test_the_first_device_is_not_new_another_is_and_a_known_one_is_not_again() -> None:
    customer = Customer()
    assert not customer.see(payment(1, T0, device_id="phone")).device_new  # nothing known to compare
    assert not customer.see(payment(2, T0 + MINUTE, device_id="phone")).device_new
    assert customer.see(login(3, T0 + 2 * MINUTE, device_id="laptop")).device_new
    assert not customer.see(payment(4, T0 + 3 * MINUTE, device_id="laptop")).device_new
    assert not customer.see(payment(5, T0 + 4 * MINUTE)).device_new  # no device named
    read = customer.profile(T0 + 3 * HOUR)
    assert read["devices_count"] == 2
    assert read["hours_since_new_device"] == 2  # since the laptop appeared, whole hours
    assert Customer().profile(T0)["hours_since_new_device"] == NEVER_HOURS


def test_the_tables_are_bounded_and_forget_the_least_recently_used_first() -> None:
    customer = Customer()
    for n in range(TABLE_SIZE + 1):  # device 0 is used on day 0 only, the others on later days
        customer.see(payment(n, T0 + timedelta(days=n), device_id=f"dev-{n}", payee_id=f"p-{n}"))
    customer.see(payment(50, T0 + timedelta(days=20), device_id="dev-1"))
    read = customer.profile(T0 + timedelta(days=20))
    assert (read["devices_count"], read["payees_count"]) == (TABLE_SIZE, TABLE_SIZE)
    assert customer.see(payment(60, T0 + timedelta(days=21), device_id="dev-0")).device_new  # forgotten
    assert not customer.see(payment(61, T0 + timedelta(days=21), device_id="dev-1")).device_new


def test_a_country_and_a_payee_new_for_the_customer() -> None:
    customer = Customer()
    out = TransactionKind.TRANSFER_OUT
    customer.see(payment(1, T0, ip_country="DE", kind=out, payee_id="mum"))
    facts = customer.see(payment(2, T0 + HOUR, ip_country="RO", kind=out, payee_id="x"))
    assert facts.country_new and facts.payee_new
    facts = customer.see(payment(3, T0 + 2 * HOUR, merchant_country="DE", channel=Channel.POS))
    assert not facts.country_new and not facts.payee_new
    assert customer.profile(T0 + 2 * HOUR)["countries_count"] == 2


def test_an_online_merchant_abroad_says_nothing_about_where_the_customer_is() -> None:
    customer = Customer()
    customer.see(payment(1, T0, merchant_country="DE", channel=Channel.POS))
    facts = customer.see(payment(2, T0 + MINUTE, merchant_country="US", channel=Channel.WEB)).context()
    assert not facts["country_new"] and facts["km_from_last"] == -1.0
    assert customer.profile(T0 + MINUTE)["countries_count"] == 1


def test_an_amount_far_above_the_customers_own_kind_has_a_high_z_score() -> None:
    customer = Customer()
    for n, amount in enumerate(("40.00", "60.00", "50.00", "45.00", "55.00")):
        assert customer.see(payment(n, T0 + n * HOUR, amount)).z100 == 0  # fewer than MIN_AMOUNTS
    usual = customer.see(payment(10, T0 + 6 * HOUR, "52.00"))
    assert usual.usual_cents == 5000 and abs(usual.z100) < 100
    far = customer.see(payment(11, T0 + 7 * HOUR, "900.00")).context()
    assert far["amount_zscore"] >= 10 and 49 < far["amount_usual"] < 51
    # other kinds keep their own distribution: a first transfer has no z-score
    transfer = customer.see(payment(12, T0 + 8 * HOUR, "900.00", kind=TransactionKind.TRANSFER_OUT))
    assert (transfer.z100, transfer.usual_cents) == (0, -1)


def test_payments_out_and_failed_logins_of_the_last_10_minutes_and_hour_are_exact() -> None:
    customer = Customer()
    customer.see(payment(1, T0, "10.00"))
    customer.see(payment(2, T0 + 30 * MINUTE, "20.00"))
    customer.see(payment(3, T0 + 55 * MINUTE, "30.00"))
    customer.see(payment(4, T0 + 56 * MINUTE, "500.00", kind=TransactionKind.SALARY_CREDIT))  # not out
    for n in range(3):
        customer.see(login(10 + n, T0 + (57 + n) * MINUTE, failed=n != 1))
    read = customer.profile(T0 + 60 * MINUTE)
    assert (read["tx_count_10m"], read["tx_sum_10m"]) == (1, 30.0)
    assert (read["tx_count_1h"], read["tx_sum_1h"]) == (2, 50.0)  # the first is an hour old: gone
    assert (read["failed_logins_10m"], read["failed_logins_1h"]) == (2, 2)
    later = customer.profile(T0 + 2 * HOUR)
    assert (later["tx_count_1h"], later["failed_logins_1h"]) == (0, 0)


def test_two_places_too_far_apart_for_the_time_between_them() -> None:
    customer = Customer()
    customer.see(payment(1, T0, latitude=52.52, longitude=13.40))  # Berlin
    facts = customer.see(payment(2, T0 + 2 * HOUR, latitude=-33.87, longitude=151.21)).context()  # Sydney
    assert 16_000 < facts["km_from_last"] < 16_200 and facts["location_exact"]
    assert facts["hours_since_last_location"] == 2.0 and facts["speed_kmh"] > 8000
    # a country without coordinates counts from its centroid, not exact
    facts = customer.see(payment(3, T0 + 3 * HOUR, merchant_country="AU", channel=Channel.POS)).context()
    assert facts["km_from_last"] > 0 and not facts["location_exact"]
    assert customer.profile(T0 + 4 * HOUR)["risk_open"]  # impossible travel opened a case


def test_a_country_without_coordinates_is_no_distance_from_a_place_in_it() -> None:
    """An IP in the US says "somewhere in the US": not 2,000 km from New York (its centroid is in
    Kansas); from another country it is a distance, judged as inexact."""
    customer = Customer()
    customer.see(login(1, T0, ip_country="US"))
    facts = customer.see(payment(2, T0 + HOUR, merchant_country="US", channel=Channel.POS, latitude=40.72,
                                 longitude=-74.05)).context()  # fmt: skip
    assert facts["km_from_last"] == 0.0 and facts["speed_kmh"] == 0.0
    assert not customer.see(login(3, T0 + 2 * HOUR, ip_country="US")).context()["km_from_last"]
    abroad = customer.see(login(4, T0 + 3 * HOUR, ip_country="DE")).context()
    assert abroad["km_from_last"] > 7000 and not abroad["location_exact"]


def test_a_risk_case_stays_open_72_hours() -> None:
    customer = Customer()
    out = TransactionKind.TRANSFER_OUT
    customer.see(payment(1, T0, "40.00", device_id="phone", kind=out, payee_id="landlord"))
    customer.see(payment(2, T0 + MINUTE, "1500.00", device_id="phone", kind=out, payee_id="new-landlord"))
    customer.see(login(3, T0 + HOUR, device_id="new-phone"))
    assert not customer.profile(T0 + HOUR)["risk_open"]  # a new payee alone, a new device alone: none
    customer.see(payment(4, T0 + 2 * HOUR, "2500.00", device_id="new-phone", kind=out, payee_id="mule"))
    opened = customer.profile(T0 + 3 * HOUR)
    assert opened["risk_open"] and opened["risk_open_hours"] == 71
    closed = customer.profile(T0 + 2 * HOUR + timedelta(hours=72))
    assert not closed["risk_open"] and closed["risk_open_hours"] == 0


def test_the_behaviour_stays_small_however_many_events_and_the_field_gives_it_back() -> None:
    customer = Customer()
    for n in range(2000):
        at = T0 + n * 7 * MINUTE
        kind = (TransactionKind.CARD_PAYMENT, TransactionKind.TRANSFER_OUT, TransactionKind.WITHDRAWAL)[n % 3]
        customer.see(
            payment(n, at, f"{n % 90 + 10}.00", kind=kind, device_id=f"d{n % 13}", payee_id=f"p{n % 17}",
                    merchant_country=("DE", "FR", "AT", "IT", "ES", "NL", "PL", "CZ", "BE", "DK")[n % 10],
                    latitude=48 + n % 3, longitude=11 + n % 4)
        )  # fmt: skip
        customer.see(login(n, at + MINUTE, failed=n % 5 == 0, device_id=f"d{n % 13}", ip_country="DE"))
    raw = customer.fields[BEHAVIOUR_FIELD]
    assert len(raw.encode("latin-1")) < 700
    assert behaviour.dump(behaviour.parse(raw)) == raw


def test_a_payment_from_a_new_device_in_a_new_country_opens_a_case_a_trip_alone_does_not() -> None:
    traveller, stolen = Customer(), Customer()
    later = T0 + 26 * HOUR  # time enough to fly there: no impossible travel
    for customer in (traveller, stolen):
        customer.see(payment(1, T0, "30.00", device_id="phone", ip_country="DE", channel=Channel.WEB))
    traveller.see(payment(2, later, "180.00", device_id="phone", ip_country="ES", channel=Channel.WEB))
    stolen.see(payment(2, later, "180.00", device_id="web-x", ip_country="AE", channel=Channel.WEB))
    assert not traveller.profile(later)["risk_open"]
    assert stolen.profile(later)["risk_open"]
