"""Render the JSON Schema of every topic; ``signalbank schemas export`` writes them to ``schemas/json``."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.catalog import TOPIC_MODELS

SCHEMA_DIR = Path(__file__).resolve().parent / "json"


def render_schemas() -> dict[str, str]:
    """Return file name -> JSON text for every topic, deterministic so staleness is a plain diff."""
    rendered: dict[str, str] = {}
    for topic, model in TOPIC_MODELS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"https://signalbank.dev/schemas/{topic}.json"
        schema["x-topic"] = topic
        rendered[f"{topic}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered


def export_schemas(target: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file (and remove ones for topics that no longer exist)."""
    target.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas()
    for stale in target.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    written = []
    for name, text in rendered.items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
