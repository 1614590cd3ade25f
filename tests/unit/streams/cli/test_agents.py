"""``signalbank agents`` lists the worker's agents with every topic each consumes (Faust's own
command crashed on the ingest agent's topic over several names)."""

from __future__ import annotations

from schemas.catalog import INPUT_TOPICS
from tests.unit.streams.cli.run import nowhere, signalbank


def test_agents_lists_the_ingest_agent_with_every_input_topic() -> None:
    result = signalbank("agents", env=nowhere())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    rows = [line for line in result.stdout.splitlines() if "@ingest" in line]
    assert len(rows) == 1, result.stdout
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1].split(", ") == list(INPUT_TOPICS)
    assert cells[2] != "<N/A>", "the agent says what it does"
