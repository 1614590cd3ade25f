"""Timeline entries of events: ids, kinds, amounts and times, never a note, a name or a counterparty."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from agents.timeline import TimelineLimits, event_entry, event_summary
from schemas.inputs import Customer, Interaction, Transaction
from sinks.redis.timeline import TimelineEvent

AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


def test_a_transaction_shows_its_kind_amount_and_currency_and_nothing_about_the_counterparty() -> None:
    payment = Transaction(
        event_id="T1",
        customer_id="C1",
        occurred_at=AT,
        account_id="C1-A",
        kind="card_payment",
        amount=Decimal("42"),
        currency="EUR",
        channel="pos",
        counterparty_bank="OTHERBANK",
        merchant_category="5411",
    )
    assert event_summary(payment) == "card_payment 42.00 EUR"
    entry = event_entry(payment, 1_000)
    assert entry == TimelineEvent(1_000, "transaction", "T1", "card_payment 42.00 EUR")
    assert TimelineEvent.decode(entry.encode()) == entry


def test_an_interaction_shows_kind_channel_and_product_never_its_note() -> None:
    login = Interaction(event_id="I1", customer_id="C1", occurred_at=AT, kind="login", channel="web")
    assert event_summary(login) == "login web"
    accepted = Interaction(
        event_id="I2",
        customer_id="C1",
        occurred_at=AT,
        kind="offer_accepted",
        channel="mobile",
        product="CREDIT_CARD",
        note="Mrs Example called about her husband's card",
    )
    assert event_summary(accepted) == "offer_accepted mobile CREDIT_CARD"


def test_master_data_shows_no_birth_date_or_household() -> None:
    record = Customer(
        event_id="M1",
        customer_id="C1",
        occurred_at=AT,
        birth_date=date(1980, 5, 17),
        household_id="H-77",
        segment="private",
    )
    summary = event_summary(record)
    assert summary == "master data, segment private"
    assert "1980" not in summary and "H-77" not in summary


def test_separators_in_a_summary_cannot_break_a_stored_entry() -> None:
    entry = TimelineEvent(5, "interaction", "I1", "odd|text\nhere")
    assert TimelineEvent.decode(entry.encode()) == TimelineEvent(5, "interaction", "I1", "odd/text here")


def test_limits_of_zero_keep_no_timeline() -> None:
    assert TimelineLimits().kept and (TimelineLimits().events, TimelineLimits().outputs) == (20, 20)
    assert not TimelineLimits(0, 0).kept
