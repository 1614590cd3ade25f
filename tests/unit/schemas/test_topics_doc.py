"""docs/topics.md lists every topic of the catalogue, each with its model, and no topic it does not have."""

from __future__ import annotations

import re
from pathlib import Path

from schemas.catalog import TOPIC_MODELS

DOC = Path(__file__).resolve().parents[3] / "docs" / "topics.md"
_ROW = re.compile(r"^\| `(?P<topic>[^`]+)` \| (?P<direction>[^|]+) \| `(?P<model>[^`]+)`")


def documented() -> dict[str, tuple[str, str]]:
    """topic -> (direction, model path) from the topic table."""
    rows = (_ROW.match(line) for line in DOC.read_text(encoding="utf-8").splitlines())
    return {m["topic"]: (m["direction"].strip(), m["model"]) for m in rows if m}


def test_every_catalogue_topic_is_documented_with_its_model() -> None:
    table = documented()
    assert set(table) == set(TOPIC_MODELS), "docs/topics.md: the topic table and schemas/catalog.py differ"
    for topic, model in TOPIC_MODELS.items():
        assert table[topic][1] == f"{model.__module__}.{model.__name__}", topic


def test_directions_follow_the_topic_names() -> None:
    for topic, (direction, _) in documented().items():
        if topic.startswith("bank."):
            assert direction.startswith("in"), topic
        elif topic == "signalbank.rules.v1":
            assert direction.startswith("control"), topic
        else:
            assert direction == "out", topic
