"""``signalbank topics create``: invalid settings exit 2, an unreachable broker 1."""

from __future__ import annotations

from tests.unit.streams.cli.run import nowhere, signalbank


def test_topics_create_rejects_invalid_partitions() -> None:
    result = signalbank("topics", "create", env={**nowhere(), "SIGNALBANK_PARTITIONS": "0"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "SIGNALBANK_PARTITIONS: Input should be greater than or equal to 1",
        "1 problem(s) found",
    ]


def test_topics_create_on_an_unreachable_broker_fails() -> None:
    result = signalbank("topics", "create", env=nowhere())
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("Error: Kafka: ")
    assert "Traceback" not in result.stderr
