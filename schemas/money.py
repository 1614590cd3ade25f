"""The reporting currency and the exchange rates that bring every amount into it.

Profiles add up amounts and balances from all of a customer's accounts, so they must be in one
currency: the decoder converts each transaction into the reporting currency with this table
(agents/decode.py) and dead-letters one whose currency has no rate, since a figure in an unknown
unit cannot be added to anything. The table is operator configuration
(``SIGNALBANK_REPORTING_CURRENCY``, ``SIGNALBANK_FX_RATES_FILE``; docs/topics.md), read once by the
entry point; rates are fixed while a worker runs, so a redelivered event converts the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType

import yaml

#: Where nothing is configured: euros, and no other currency known.
DEFAULT_REPORTING_CURRENCY = "EUR"
_CODE = re.compile(r"^[A-Z]{3}$")
_CENT = Decimal("0.01")


class RateTableError(ValueError):
    """A rates file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class RateTable:
    """Units of the reporting currency one unit of each other currency is worth.

    The reporting currency itself always converts at 1; a currency that is not listed is unknown.
    """

    reporting: str = DEFAULT_REPORTING_CURRENCY
    rates: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not _CODE.match(self.reporting):
            raise RateTableError(f"reporting currency {self.reporting!r} is not an ISO 4217 code")
        for code, rate in self.rates.items():
            if not _CODE.match(code):
                raise RateTableError(f"{code!r} is not an ISO 4217 code")
            if not rate.is_finite() or rate <= 0:
                raise RateTableError(f"the rate of {code} must be a positive number, not {rate}")

    def knows(self, currency: str) -> bool:
        return currency == self.reporting or currency in self.rates

    def convert(self, amount: Decimal, currency: str) -> Decimal:
        """``amount`` in ``currency`` as reporting currency, to the cent (half to even, like a bank's
        rounding of the cent: no drift over many conversions). KeyError when the currency is unknown."""
        if currency == self.reporting:
            return amount
        return (amount * self.rates[currency]).quantize(_CENT, rounding=ROUND_HALF_EVEN)


def parse_rates(text: str, reporting: str, source: str = "<rates>") -> RateTable:
    """A rate table from YAML text: a mapping of ISO 4217 code -> units of ``reporting`` per unit.

    Rates may be written as numbers or strings ("0.9231"); strings keep every digit exactly.
    """
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RateTableError(f"{source}: not YAML: {error}") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise RateTableError(f"{source}: expected a mapping of currency code to rate")
    rates: dict[str, Decimal] = {}
    for code, value in loaded.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise RateTableError(f"{source}: the rate of {code} must be a number")
        try:
            rate = Decimal(str(value))
        except InvalidOperation:
            raise RateTableError(f"{source}: the rate of {code} is not a number: {value!r}") from None
        rates[str(code)] = rate
    if reporting in rates and rates[reporting] != 1:
        raise RateTableError(f"{source}: the reporting currency {reporting} must have rate 1")
    rates.pop(reporting, None)
    try:
        return RateTable(reporting, MappingProxyType(rates))
    except RateTableError as error:
        raise RateTableError(f"{source}: {error}") from None


def read_rates(path: Path | None, reporting: str = DEFAULT_REPORTING_CURRENCY) -> RateTable:
    """The table in the file at ``path``; without a file, only ``reporting`` itself is known."""
    if path is None:
        return RateTable(reporting)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RateTableError(f"{path}: cannot read the rates file: {error.strerror}") from None
    return parse_rates(text, reporting, str(path))
