"""What Redis returns -> the flat profile rules read: every derived field, and the event maps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from schemas.common import Channel
from schemas.inputs import Customer, Interaction, InteractionKind, Transaction, TransactionKind
from schemas.profile.delta import MS_PER_DAY
from schemas.profile.fields import EVENT_FIELDS, NEVER_DAYS
from schemas.profile.shape import METRIC_COUNT, WINDOWS, Metric
from schemas.profile.view import build_event_context, build_profile, neutral_event

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
TODAY = NOW_MS // MS_PER_DAY
HOUR_MS = 3_600_000


def ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def sums(**per_window: dict[Metric, int]) -> list[int]:
    """Window sums, e.g. ``sums(w30={Metric.INFLOW: 100})`` (windows not given are zeros)."""
    flat = [0] * (METRIC_COUNT * len(WINDOWS))
    for w, days in enumerate(WINDOWS):
        for metric, value in per_window.get(f"w{days}", {}).items():
            flat[w * METRIC_COUNT + metric] = value
    return flat


def profile(state: dict[str, str] | None = None, window_sums: list[int] | None = None) -> dict[str, Any]:
    return build_profile("C1", state or {}, window_sums or sums(), NOW_MS)


def test_days_since_are_whole_days_and_never_when_absent() -> None:
    state = {
        "salary_ts": ms(NOW - timedelta(days=35, hours=23)),  # 35.96 days ago: 35
        "login_ts": ms(NOW - timedelta(hours=1)),
        "activity_ts": ms(NOW + timedelta(hours=30)),  # read as of a time before it: never negative
        "offer_decline_ts": ms(NOW - timedelta(days=60)),
    }
    read = profile(state)
    assert (read["days_since_salary"], read["days_since_login"], read["days_since_activity"]) == (35, 0, 0)
    assert read["days_since_offer_declined"] == 60
    assert read["days_since_contact_update"] == read["days_since_offer_accepted"] == NEVER_DAYS


def test_master_data_reads_the_newest_value_and_has_defaults() -> None:
    empty = profile()
    assert (empty["segment"], empty["kyc_risk"], empty["household_id"]) == ("retail", "low", "")
    assert empty["marketing_consent"] is False
    assert (empty["age_years"], empty["days_to_birthday"], empty["tenure_days"]) == (-1, -1, -1)
    state = {
        "m:segment": "1700000000000|private",
        "m:marketing_consent": "1700000000000|1",
        "m:kyc_risk": "high",
        "m:household_id": "1|H|7",  # only the first "|" separates the time
        "m:opened_ms": f"1|{ms(NOW - timedelta(days=400, hours=2))}",
    }
    read = profile(state)
    assert (read["segment"], read["kyc_risk"], read["household_id"]) == ("private", "high", "H|7")
    assert read["marketing_consent"] is True and read["tenure_days"] == 400


@pytest.mark.parametrize(
    ("born", "today", "age", "days_to"),
    [
        ("1990-03-01", date(2026, 3, 1), 36, 0),
        ("1990-03-02", date(2026, 3, 1), 35, 1),
        ("1990-02-28", date(2026, 3, 1), 36, 364),
        ("2000-02-29", date(2025, 2, 28), 24, 1),  # no 29 February: the birthday is 1 March
        ("2000-02-29", date(2024, 2, 29), 24, 0),
        ("2000-12-31", date(2026, 12, 31), 26, 0),
        ("2000-01-01", date(2026, 12, 31), 26, 1),
    ],
)
def test_birthday_figures(born: str, today: date, age: int, days_to: int) -> None:
    at_ms = int(datetime.combine(today, datetime.min.time(), UTC).timestamp() * 1000) + HOUR_MS
    read = build_profile("C1", {"m:birth_date": f"1|{born}"}, sums(), at_ms)
    assert (read["age_years"], read["days_to_birthday"]) == (age, days_to)


def test_complaints_products_balance_and_nps() -> None:
    state = {
        "c:LATE": f"5|open:{ms(NOW - timedelta(hours=10))}",
        "c:OLD": f"open:{ms(NOW - timedelta(hours=50, minutes=59))}",
        "c:DONE": "9|resolved",
        "p:SAVINGS": "3|1",
        "p:CARD": "1",
        "p:LOAN": "4|0",
        "balance": "7|-12345",
        "nps": "8|6",
    }
    read = profile(state)
    assert (read["complaints_open"], read["oldest_open_complaint_ref"]) == (2, "OLD")
    assert read["oldest_open_complaint_hours"] == 50
    assert (read["products"], read["product_count"]) == (["CARD", "SAVINGS"], 2)
    assert read["balance_last"] == -123.45
    assert read["last_nps"] == 6
    none = profile()
    assert (
        none["complaints_open"],
        none["oldest_open_complaint_hours"],
        none["oldest_open_complaint_ref"],
    ) == (
        0,
        0,
        "",
    )
    assert (none["products"], none["balance_last"], none["last_nps"]) == ([], 0.0, -1)


def test_the_total_balance_is_the_sum_of_each_accounts_latest() -> None:
    read = profile({"a:CUR-1": "7|268300", "a:SAV-2": "9|1208700", "a:CARD-3": "8|-1550", "balance": "9|1"})
    assert read["balance_last"] == 14754.5  # 2,683 + 12,087 - 15.50; the single balance of before ignored
    assert read["accounts_count"] == 3
    assert (read["balance_max_account"], read["balance_min_account"]) == (12087.0, -15.5)
    none = profile()
    assert (none["balance_last"], none["accounts_count"], none["balance_max_account"]) == (0.0, 0, 0.0)
    assert none["balance_min_account"] == 0.0


def test_a_profile_stored_before_accounts_reads_its_one_balance_as_the_total() -> None:
    read = profile({"balance": "7|-12345"})
    assert (read["balance_last"], read["accounts_count"], read["balance_min_account"]) == (
        -123.45,
        1,
        -123.45,
    )


def test_windows_give_money_in_units_and_counts_as_they_are() -> None:
    window_sums = sums(
        w7={Metric.TXN_COUNT: 3, Metric.INFLOW: 150_001, Metric.OUTFLOW: 20_050},
        w30={Metric.LOGIN_COUNT: 4, Metric.CARD_SPEND: 1_099},
        w90={Metric.LOGIN_COUNT: 10, Metric.CARD_SPEND: 5_000, Metric.FEES: 3},
    )
    read = profile(window_sums=window_sums)
    assert read["txn_count_7d"] == 3 and type(read["txn_count_7d"]) is int
    assert (read["inflow_7d"], read["outflow_7d"], read["net_flow_7d"]) == (1500.01, 200.5, 1299.51)
    assert (read["fees_90d"], read["inflow_1d"]) == (0.03, 0.0)
    assert read["login_count_prev60d"] == 6
    assert read["card_spend_prev60d"] == 39.01


@pytest.mark.parametrize(
    ("total", "n", "average"),
    [(1001, 2, 5.01), (1003, 2, 5.02), (1000, 3, 3.33), (1001, 3, 3.34), (-1001, 2, -5.0), (0, 0, 0.0)],
)
def test_balance_average_is_to_the_cent_half_up(total: int, n: int, average: float) -> None:
    window_sums = sums(w30={Metric.BALANCE_SUM: total, Metric.BALANCE_N: n})
    read = profile(window_sums=window_sums)
    assert read["balance_avg_30d"] == average
    assert read["balance_avg_7d"] == 0.0


def test_a_new_payee_bank_needs_history_before_its_first_transfer() -> None:
    first = TODAY - 100
    state = {"act_first": str(first), "act_last": str(TODAY), "payee_bank": "9|N26"}
    fresh = profile({**state, "ob:N26": f"{first + 60},{TODAY - 2},3"})
    assert (fresh["new_payee_bank_days"], fresh["new_payee_bank_transfers"]) == (40, 3)
    early = profile({**state, "ob:N26": f"{first + 59},{TODAY - 2},3"})
    assert (early["new_payee_bank_days"], early["new_payee_bank_transfers"]) == (NEVER_DAYS, 0)
    other = profile({**state, "ob:REVOLUT": f"{first + 70},{TODAY},1"})  # not the latest payee
    assert other["new_payee_bank_days"] == NEVER_DAYS


def test_activity_without_a_model_is_neutral_but_counts_days() -> None:
    state = {"act_first": str(TODAY - 30), "act_last": str(TODAY - 2)}
    read = build_profile("C1", state, sums(), NOW_MS, None, active_days=5)
    assert (read["active_days"], read["p_alive"], read["expected_active_days_30d"]) == (5, 1.0, -1.0)


def transaction(kind: TransactionKind, bank: str | None, **fields: Any) -> Transaction:
    return Transaction(
        event_id="t1",
        customer_id="C1",
        occurred_at=NOW,
        account_id="A1",
        kind=kind,
        amount=Decimal("99.90"),
        currency="EUR",
        channel=Channel.WEB,
        counterparty_bank=bank,
        **fields,
    )


def test_event_context_of_a_transaction() -> None:
    out = build_event_context(transaction(TransactionKind.TRANSFER_OUT, "N26"), "SIGNALBANK")
    assert out == neutral_event("transaction", "t1") | {
        "kind": "transfer_out",
        "channel": "web",
        "amount": 99.9,
        "counterparty_bank": "N26",
        "to_other_bank": True,
    }
    home = build_event_context(transaction(TransactionKind.TRANSFER_OUT, "SIGNALBANK"), "SIGNALBANK")
    assert home["to_other_bank"] is False
    incoming = build_event_context(transaction(TransactionKind.TRANSFER_IN, "N26"), "SIGNALBANK")
    assert incoming["to_other_bank"] is False
    card = build_event_context(
        transaction(TransactionKind.CARD_PAYMENT, None, merchant_category="5411"), "SIGNALBANK"
    )
    assert (card["merchant_category"], card["counterparty_bank"], card["to_other_bank"]) == (
        "5411",
        "",
        False,
    )


def test_event_context_of_an_interaction_and_of_master_data() -> None:
    survey = Interaction(
        event_id="i1",
        customer_id="C1",
        occurred_at=NOW,
        kind=InteractionKind.SURVEY_RESPONSE,
        channel=Channel.MOBILE,
        score=0,
        reference="SRV-1",
    )
    out = build_event_context(survey, "SIGNALBANK")
    assert (out["type"], out["kind"], out["channel"], out["score"], out["reference"]) == (
        "interaction",
        "survey_response",
        "mobile",
        0,
        "SRV-1",
    )
    assert (out["product"], out["amount"]) == ("", 0.0)
    login = build_event_context(survey.model_copy(update={"score": None, "reference": None}), "SIGNALBANK")
    assert (login["score"], login["reference"]) == (-1, "")
    customer = Customer(event_id="m1", customer_id="C1", occurred_at=NOW, marketing_consent=True)
    assert build_event_context(customer, "SIGNALBANK") == neutral_event("customer", "m1")


def test_a_neutral_event_has_every_event_field_at_its_neutral_value() -> None:
    event = neutral_event("check", "check:2026-03-01")
    assert list(event) == [spec.name for spec in EVENT_FIELDS]
    assert (event["type"], event["event_id"]) == ("check", "check:2026-03-01")
    rest = {k: v for k, v in event.items() if k not in ("type", "event_id")}
    assert rest == {
        "kind": "",
        "amount": 0.0,
        "channel": "",
        "counterparty_bank": "",
        "to_other_bank": False,
        "merchant_category": "",
        "product": "",
        "score": -1,
        "reference": "",
        "ip_country": "",
        "merchant_country": "",
        "auth_method": "",
        "auth_failed": False,
        "has_device": False,
        # the behaviour's facts: nothing new, no z-score, no usual amount, no known location
        "device_new": False,
        "country_new": False,
        "payee_new": False,
        "channel_new": False,
        "amount_zscore": 0.0,
        "amount_usual": -1.0,
        "km_from_last": -1.0,
        "hours_since_last_location": -1.0,
        "speed_kmh": -1.0,
        "location_exact": False,
    }
