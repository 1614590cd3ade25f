"""JSONL files: one per input topic, valid lines only unless asked."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from schemas.catalog import INPUT_MODELS, INPUT_TOPICS, TRANSACTIONS
from streams.sim.generator import generate
from streams.sim.jsonl import JSONL_FILES, write_jsonl
from tests.unit.streams.sim.traffic import (
    SCENARIO,
)


def test_write_jsonl_writes_one_file_per_topic(tmp_path: Path) -> None:
    scenario = replace(SCENARIO, customers=10, days=20, invalid_ratio=0.1)
    stream = list(generate(scenario))
    counts = write_jsonl(stream, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["customers.jsonl", "interactions.jsonl", "transactions.jsonl"]
    assert counts == {t: sum(e.topic == t and e.valid for e in stream) for t in INPUT_TOPICS}
    for topic, name in JSONL_FILES.items():
        lines = (tmp_path / name).read_bytes().splitlines()
        assert len(lines) == counts[topic]
        for line in lines:
            assert isinstance(json.loads(line), dict)
            INPUT_MODELS[topic].model_validate_json(line)
    with_broken = write_jsonl(stream, tmp_path / "all", include_invalid=True)
    assert with_broken[TRANSACTIONS] == sum(e.topic == TRANSACTIONS for e in stream) > counts[TRANSACTIONS]
