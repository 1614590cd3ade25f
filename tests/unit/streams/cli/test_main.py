"""The entry point: invalid ``SIGNALBANK_*`` settings are reported like any bad input, exit 2."""

from __future__ import annotations

from tests.unit.streams.cli.run import signalbank


def test_invalid_settings_are_reported_without_a_traceback() -> None:
    result = signalbank("rules", "check", env={"SIGNALBANK_PARTITIONS": "four"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "SIGNALBANK_PARTITIONS: Input should be a valid integer, unable to parse string as an integer",
        "1 problem(s) found",
    ]
    assert result.stdout == ""


def test_every_invalid_setting_is_listed() -> None:
    result = signalbank("--help", env={"SIGNALBANK_PARTITIONS": "0", "SIGNALBANK_WEB_PORT": "70000"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "SIGNALBANK_WEB_PORT: Input should be less than or equal to 65535",
        "SIGNALBANK_PARTITIONS: Input should be greater than or equal to 1",
        "2 problem(s) found",
    ]
