"""``signalbank profile``: an unknown customer or an unreachable Redis exits 1; bad settings 2."""

from __future__ import annotations

from tests.unit.streams.cli.run import nowhere, signalbank


def test_profile_of_an_unknown_customer_fails(redis_url: str) -> None:
    result = signalbank("profile", "NOBODY", env={"SIGNALBANK_REDIS_URL": redis_url})
    assert result.returncode == 1
    assert result.stderr == "Error: no profile for NOBODY\n"


def test_profile_without_redis_fails() -> None:
    result = signalbank("profile", "C1", env=nowhere())
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Redis: ")
    assert "Traceback" not in result.stderr


def test_profile_rejects_invalid_retention() -> None:
    result = signalbank("profile", "C1", env={**nowhere(), "SIGNALBANK_RETENTION_DAYS": "ninety"})
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "SIGNALBANK_RETENTION_DAYS: Input should be a valid integer, unable to parse string as an integer"
    )
