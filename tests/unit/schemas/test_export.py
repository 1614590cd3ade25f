"""The exported JSON Schemas: one current file per topic, exactly what the models accept."""

from __future__ import annotations

import json

from schemas.catalog import INPUT_TOPICS, OUTPUT_TOPICS
from schemas.export import SCHEMA_DIR, render_schemas


def test_exported_json_schemas_are_current() -> None:
    rendered = render_schemas()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert set(on_disk) == set(rendered), "run `signalbank schemas export`"
    stale = [name for name, text in rendered.items() if on_disk[name] != text]
    assert not stale, f"stale JSON Schemas {stale}: run `signalbank schemas export`"


def test_exported_input_schemas_allow_unknown_fields_and_outputs_do_not() -> None:
    """Readers of inputs are tolerant (agents/decode.py); our outputs carry only what the model says."""
    for topic in INPUT_TOPICS:
        assert json.loads((SCHEMA_DIR / f"{topic}.json").read_text())["additionalProperties"] is True
    for topic in OUTPUT_TOPICS:
        assert json.loads((SCHEMA_DIR / f"{topic}.json").read_text())["additionalProperties"] is False
    assert "amount" in json.loads((SCHEMA_DIR / "bank.transactions.v1.json").read_text())["required"]
