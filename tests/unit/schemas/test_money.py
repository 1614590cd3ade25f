"""The rate table: parsing an operator's rates file, converting to the cent, refusing what is unusable."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from schemas.money import RateTable, RateTableError, parse_rates, read_rates


def test_rates_convert_to_the_reporting_currency_to_the_cent_half_to_even() -> None:
    table = parse_rates('USD: 0.92\nGBP: "1.1725"\nEUR: 1\n', "EUR")
    assert table.rates == {"USD": Decimal("0.92"), "GBP": Decimal("1.1725")}
    assert table.convert(Decimal("100.00"), "USD") == Decimal("92.00")
    assert table.convert(Decimal("10.00"), "GBP") == Decimal("11.72")  # 11.725: half to even
    assert table.convert(Decimal("30.00"), "GBP") == Decimal("35.18")  # 35.175: half to even, up
    assert table.convert(Decimal("-2683.17"), "EUR") == Decimal("-2683.17")
    assert (table.knows("EUR"), table.knows("USD"), table.knows("CHF")) == (True, True, False)
    with pytest.raises(KeyError):
        table.convert(Decimal("1.00"), "CHF")


def test_without_a_file_only_the_reporting_currency_is_known(tmp_path: Path) -> None:
    assert read_rates(None, "GBP") == RateTable("GBP")
    assert not read_rates(None).knows("USD")
    path = tmp_path / "rates.yaml"
    path.write_text("# per euro\nCHF: '1.05'\n", encoding="utf-8")
    assert read_rates(path).convert(Decimal("2.00"), "CHF") == Decimal("2.10")
    assert parse_rates("", "EUR") == RateTable()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- USD\n", "expected a mapping"),
        ("USD: -1\n", "positive"),
        ("USD: 0\n", "positive"),
        ("USD: abc\n", "not a number"),
        ("USD: true\n", "must be a number"),
        ("usd: 1.1\n", "ISO 4217"),
        ("EUR: 1.1\n", "rate 1"),
        ("USD: [1\n", "not YAML"),
    ],
)
def test_an_unusable_rates_file_is_refused_naming_the_file(text: str, problem: str) -> None:
    with pytest.raises(RateTableError, match=problem) as raised:
        parse_rates(text, "EUR", "rates.yaml")
    assert str(raised.value).startswith("rates.yaml: ")


def test_a_missing_file_and_a_bad_reporting_currency_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RateTableError, match="cannot read"):
        read_rates(tmp_path / "absent.yaml")
    with pytest.raises(RateTableError, match="ISO 4217"):
        RateTable("euro")
