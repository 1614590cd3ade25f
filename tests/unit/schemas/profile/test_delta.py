"""Event -> profile update: each kind's bucket increments (money in cents) and state operations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from schemas.common import Channel
from schemas.inputs import (
    Customer,
    InputEvent,
    Interaction,
    InteractionKind,
    KycRisk,
    Segment,
    TransactionKind,
)
from schemas.profile.behaviour import BEHAVIOUR_OP
from schemas.profile.delta import (
    MS_PER_DAY,
    NEW_PAYEE_GAP_DAYS,
    PASSIVE_KINDS,
    build_update,
    event_millis,
    is_customer_activity,
    to_cents,
)
from schemas.profile.shape import METRIC_COUNT, Metric
from tests.support.profile_events import DAY0, tx

HOME = "SIGNALBANK"
TS = int(DAY0.timestamp() * 1000)
DAY = str(TS // MS_PER_DAY)
M = Metric


def nonzero(event: InputEvent) -> dict[Metric, int]:
    increments = build_update(event, HOME).increments
    assert len(increments) == METRIC_COUNT
    return {Metric(i): v for i, v in enumerate(increments) if v}


def ops(event: InputEvent) -> set[tuple[str, str, str]]:
    """The state operations but the behaviour's observation (tests/unit/schemas/profile/test_behaviour.py)."""
    return {op for op in build_update(event, HOME).ops if op[0] != BEHAVIOUR_OP}


def interaction(kind: InteractionKind, **fields: object) -> Interaction:
    return Interaction.model_validate(
        {
            "event_id": "i1",
            "customer_id": "C1",
            "occurred_at": DAY0,
            "kind": kind,
            "channel": Channel.MOBILE,
            **fields,
        }
    )


ACTIVE = {("mn", "act_first", DAY), ("mx", "act_last", DAY)}
ACTIVITY = ("mx", "activity_ts", str(TS))


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (TransactionKind.DEPOSIT, {M.TXN_COUNT: 1, M.INFLOW: 1234, M.ACTIVE: 1}),
        (TransactionKind.TRANSFER_IN, {M.TXN_COUNT: 1, M.INFLOW: 1234, M.ACTIVE: 1}),
        (TransactionKind.INVESTMENT_SELL, {M.TXN_COUNT: 1, M.INFLOW: 1234, M.ACTIVE: 1}),
        (TransactionKind.INTEREST, {M.TXN_COUNT: 1, M.INFLOW: 1234}),
        (
            TransactionKind.SALARY_CREDIT,
            {M.TXN_COUNT: 1, M.INFLOW: 1234, M.SALARY_COUNT: 1, M.SALARY_AMOUNT: 1234},
        ),
        (TransactionKind.WITHDRAWAL, {M.TXN_COUNT: 1, M.OUTFLOW: 1234, M.ACTIVE: 1}),
        (TransactionKind.TRANSFER_OUT, {M.TXN_COUNT: 1, M.OUTFLOW: 1234, M.ACTIVE: 1}),
        (TransactionKind.INVESTMENT_BUY, {M.TXN_COUNT: 1, M.OUTFLOW: 1234, M.ACTIVE: 1}),
        (TransactionKind.CARD_PAYMENT, {M.TXN_COUNT: 1, M.OUTFLOW: 1234, M.CARD_SPEND: 1234, M.ACTIVE: 1}),
        (
            TransactionKind.LOAN_REPAYMENT,
            {M.TXN_COUNT: 1, M.OUTFLOW: 1234, M.LOAN_REPAYMENT: 1234, M.ACTIVE: 1},
        ),
        (TransactionKind.FEE, {M.TXN_COUNT: 1, M.OUTFLOW: 1234, M.FEES: 1234}),
    ],
)
def test_each_transaction_kind_counts_its_money_in_cents(
    kind: TransactionKind, expected: dict[Metric, int]
) -> None:
    event = tx(1, 0, kind, "12.34")
    assert nonzero(event) == expected
    state = ops(event)
    assert ACTIVITY in state
    assert (state >= ACTIVE) is (kind not in PASSIVE_KINDS)
    assert (("mx", "salary_ts", str(TS)) in state) is (kind is TransactionKind.SALARY_CREDIT)


def test_passive_postings_are_not_customer_activity() -> None:
    for kind in TransactionKind:
        assert is_customer_activity(tx(1, 0, kind, "1.00")) is (kind not in PASSIVE_KINDS)
    assert is_customer_activity(interaction(InteractionKind.LOGIN))
    assert not is_customer_activity(Customer(event_id="m1", customer_id="C1", occurred_at=DAY0))


def test_balance_is_summed_counted_and_kept_newest_even_when_negative() -> None:
    event = tx(1, 0, TransactionKind.CARD_PAYMENT, "5.00", balance="-20.07")
    assert (nonzero(event)[M.BALANCE_SUM], nonzero(event)[M.BALANCE_N]) == (-2007, 1)
    assert ("ab", "A1", "-2007") in ops(event)  # the account's balance, kept newest per account
    assert M.BALANCE_N not in nonzero(tx(2, 0, TransactionKind.CARD_PAYMENT, "5.00"))


def test_money_leaving_for_another_bank_and_new_payee_runs() -> None:
    out = tx(1, 0, TransactionKind.TRANSFER_OUT, "50.00", bank="REVOLUT")
    assert nonzero(out)[M.OUTFLOW_OTHER_BANK] == 5000
    assert {("rn", "ob:REVOLUT", f"{DAY},{NEW_PAYEE_GAP_DAYS}"), ("sn", "payee_bank", "REVOLUT")} <= ops(out)
    # another bank, but not a transfer: counted as leaving, not as a payee
    withdrawal = tx(2, 0, TransactionKind.WITHDRAWAL, "50.00", bank="REVOLUT")
    assert nonzero(withdrawal)[M.OUTFLOW_OTHER_BANK] == 5000
    assert not any(op[0] == "rn" or op[1] == "payee_bank" for op in ops(withdrawal))
    # our own bank, or money coming in from another one: neither
    for event in (
        tx(3, 0, TransactionKind.TRANSFER_OUT, "50.00", bank=HOME),
        tx(4, 0, TransactionKind.TRANSFER_IN, "50.00", bank="REVOLUT"),
    ):
        assert M.OUTFLOW_OTHER_BANK not in nonzero(event)
        assert not any(op[0] == "rn" for op in ops(event))


@pytest.mark.parametrize(
    ("kind", "fields", "metrics", "state"),
    [
        (InteractionKind.LOGIN, {}, {M.LOGIN_COUNT: 1}, {("mx", "login_ts", str(TS))}),
        (InteractionKind.CALL, {}, {}, set()),
        (InteractionKind.BRANCH_VISIT, {}, {}, set()),
        (
            InteractionKind.COMPLAINT_OPENED,
            {"reference": "CMP-1"},
            {M.COMPLAINT_COUNT: 1},
            {("sn", "c:CMP-1", f"open:{TS}")},
        ),
        (InteractionKind.COMPLAINT_OPENED, {}, {M.COMPLAINT_COUNT: 1}, {("sn", "c:i1", f"open:{TS}")}),
        (InteractionKind.COMPLAINT_RESOLVED, {"reference": "CMP-1"}, {}, {("sn", "c:CMP-1", "resolved")}),
        (InteractionKind.COMPLAINT_RESOLVED, {}, {}, set()),
        (
            InteractionKind.OFFER_ACCEPTED,
            {"product": "SAVINGS"},
            {M.OFFERS_ACCEPTED: 1},
            {("mx", "offer_accept_ts", str(TS)), ("sn", "p:SAVINGS", "1")},
        ),
        (InteractionKind.OFFER_ACCEPTED, {}, {M.OFFERS_ACCEPTED: 1}, {("mx", "offer_accept_ts", str(TS))}),
        (
            InteractionKind.OFFER_DECLINED,
            {"product": "SAVINGS"},
            {M.OFFERS_DECLINED: 1},
            {("mx", "offer_decline_ts", str(TS))},
        ),
        (InteractionKind.PRODUCT_OPENED, {"product": "CARD"}, {}, {("sn", "p:CARD", "1")}),
        (InteractionKind.PRODUCT_CLOSED, {"product": "CARD"}, {}, {("sn", "p:CARD", "0")}),
        (InteractionKind.PRODUCT_CLOSED, {}, {}, set()),
        (InteractionKind.SURVEY_RESPONSE, {"score": 0}, {}, {("sn", "nps", "0")}),
        (InteractionKind.SURVEY_RESPONSE, {}, {}, set()),
        (InteractionKind.CONTACT_UPDATE, {}, {}, {("mx", "contact_ts", str(TS))}),
    ],
)
def test_each_interaction_kind_counts_and_records_its_state(
    kind: InteractionKind,
    fields: dict[str, object],
    metrics: dict[Metric, int],
    state: set[tuple[str, str, str]],
) -> None:
    event = interaction(kind, **fields)
    assert nonzero(event) == {M.INTERACTION_COUNT: 1, M.ACTIVE: 1, **metrics}
    assert ops(event) == {ACTIVITY, *ACTIVE, *state}


def test_a_failed_login_is_no_login_and_no_activity_only_an_observation_of_the_behaviour() -> None:
    failed = interaction(InteractionKind.LOGIN, auth_outcome="failed")
    assert not is_customer_activity(failed)
    assert nonzero(failed) == {}  # a fraudster's attempts must not keep a lapsing customer "active"
    assert ops(failed) == set()
    assert [op[0] for op in build_update(failed, HOME).ops] == [BEHAVIOUR_OP]
    succeeded = interaction(InteractionKind.LOGIN, auth_outcome="success")
    assert nonzero(succeeded) == {M.INTERACTION_COUNT: 1, M.ACTIVE: 1, M.LOGIN_COUNT: 1}


def test_master_data_sets_every_master_field_and_nothing_else() -> None:
    opened = datetime(2015, 6, 1, 8, tzinfo=UTC)
    event = Customer(
        event_id="m1",
        customer_id="C1",
        occurred_at=DAY0,
        birth_date=datetime(1990, 5, 17).date(),
        opened_at=opened,
        household_id="H7",
        segment=Segment.PRIVATE,
        marketing_consent=True,
        kyc_risk=KycRisk.HIGH,
    )
    assert nonzero(event) == {}
    assert ops(event) == {
        ("sn", "m:segment", "private"),
        ("sn", "m:marketing_consent", "1"),
        ("sn", "m:kyc_risk", "high"),
        ("sn", "m:birth_date", "1990-05-17"),
        ("sn", "m:opened_ms", str(int(opened.timestamp() * 1000))),
        ("sn", "m:household_id", "H7"),
    }
    bare = ops(Customer(event_id="m2", customer_id="C1", occurred_at=DAY0))
    assert {op[1]: op[2] for op in bare} == {
        "m:segment": "retail",
        "m:marketing_consent": "0",
        "m:kyc_risk": "low",
        "m:birth_date": "",
        "m:opened_ms": "",
        "m:household_id": "",
    }


def test_cents_are_exact_where_floats_are_not() -> None:
    assert to_cents(Decimal("0.29")) == 29  # int(0.29 * 100) would be 28
    assert to_cents(Decimal("1000000000.00")) == 100_000_000_000
    assert to_cents(Decimal("-20.07")) == -2007
    assert nonzero(tx(1, 0, TransactionKind.DEPOSIT, "0.29"))[M.INFLOW] == 29


def test_the_update_carries_identity_event_time_day_and_position() -> None:
    late_evening = datetime(2026, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 2 Jan in UTC
    event = tx(7, 0, TransactionKind.DEPOSIT, "1.00", customer="C9").model_copy(
        update={"occurred_at": late_evening}
    )
    update = build_update(event, HOME, "0:3:42")
    assert (update.customer_id, update.event_id, update.position) == ("C9", "t7", "0:3:42")
    assert update.ts_ms == event_millis(event) == int(late_evening.timestamp() * 1000)
    assert datetime.fromtimestamp(update.day * 86_400, UTC).date() == datetime(2026, 1, 2).date()
    assert build_update(event, HOME).position == ""
