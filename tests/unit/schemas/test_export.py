"""The exported JSON Schemas: one current file per topic, as strict as the models."""

from __future__ import annotations

import json

from schemas.export import SCHEMA_DIR, render_schemas


def test_exported_json_schemas_are_current() -> None:
    rendered = render_schemas()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert set(on_disk) == set(rendered), "run `signalbank schemas export`"
    stale = [name for name, text in rendered.items() if on_disk[name] != text]
    assert not stale, f"stale JSON Schemas {stale}: run `signalbank schemas export`"


def test_exported_schema_rejects_unknown_input_fields() -> None:
    schema = json.loads((SCHEMA_DIR / "bank.transactions.v1.json").read_text())
    assert schema["additionalProperties"] is False
    assert "amount" in schema["required"]
