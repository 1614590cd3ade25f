"""Bank codes the simulated customers deal with, as they appear in ``counterparty_bank``.

Churn rules look for money moving to competitors, so these codes are part of what the
simulator promises: drifting customers' money goes to ``COMPETITOR_BANKS``.
"""

from __future__ import annotations

from typing import Final

HOME_BANK: Final = "SIGNALBANK"
"""Our own bank code in ``counterparty_bank`` (internal transfers); matches ``Settings.home_bank``."""
COMPETITOR_BANKS: Final = ("REVOLUT", "N26", "ING", "BUNQ", "TRADE_REPUBLIC", "DKB", "C24")
"""Where drifting customers move their money."""
EMPLOYER_BANKS: Final = ("DEUTSCHE", "COMMERZBANK", "SPARKASSE", "HYPOVEREINS", "BNP", HOME_BANK)
LANDLORD_BANKS: Final = ("SPARKASSE", "VOLKSBANK", "DEUTSCHE", "POSTBANK")
PENSION_PAYER: Final = "DRV_BUND"
TRANSFER_IN_BANKS: Final = (*LANDLORD_BANKS, *COMPETITOR_BANKS, HOME_BANK)
"""Where ad hoc incoming transfers and peer payments come from and go to."""
CAR_BANKS: Final = ("VOLKSWAGEN_BANK", "BMW_BANK", "SANTANDER", "MERCEDES_BANK")
"""Who receives a car payment."""
