"""The bank codes the simulator promises: our own is the settings' home bank (internal, not money
leaving), every competitor is another bank the profile counts money going to, each a valid code."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.common import Channel
from schemas.inputs import Transaction, TransactionKind
from schemas.profile.delta import build_update
from schemas.profile.shape import Metric
from streams.settings import Settings
from streams.sim.banks import (
    CAR_BANKS,
    COMPETITOR_BANKS,
    EMPLOYER_BANKS,
    HOME_BANK,
    LANDLORD_BANKS,
    PENSION_PAYER,
    TRANSFER_IN_BANKS,
)

ALL_CODES = sorted(
    {
        HOME_BANK,
        PENSION_PAYER,
        *COMPETITOR_BANKS,
        *EMPLOYER_BANKS,
        *LANDLORD_BANKS,
        *TRANSFER_IN_BANKS,
        *CAR_BANKS,
    }
)


def transfer_to(bank: str) -> Transaction:
    return Transaction(
        event_id=f"out-{bank}",
        customer_id="C1",
        occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        account_id="A1",
        kind=TransactionKind.TRANSFER_OUT,
        amount=Decimal("250.00"),
        currency="EUR",
        channel=Channel.MOBILE,
        counterparty_bank=bank,
    )


def test_our_bank_is_the_settings_home_bank() -> None:
    assert Settings().home_bank == HOME_BANK


@pytest.mark.parametrize("bank", COMPETITOR_BANKS)
def test_money_sent_to_a_competitor_leaves_for_another_bank(bank: str) -> None:
    update = build_update(transfer_to(bank), Settings().home_bank)
    assert update.increments[Metric.OUTFLOW_OTHER_BANK] == 25_000
    assert ("sn", "payee_bank", bank) in update.ops


def test_money_sent_to_our_own_bank_stays() -> None:
    update = build_update(transfer_to(HOME_BANK), Settings().home_bank)
    assert update.increments[Metric.OUTFLOW] == 25_000
    assert update.increments[Metric.OUTFLOW_OTHER_BANK] == 0
    assert not any(op[1] == "payee_bank" for op in update.ops)


def test_every_code_is_a_valid_counterparty_bank() -> None:
    assert [transfer_to(bank).counterparty_bank for bank in ALL_CODES] == ALL_CODES  # validated
