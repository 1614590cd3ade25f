"""The topic contract: every topic has one model and an exported JSON Schema file naming it."""

from __future__ import annotations

import json

import pytest

from schemas.catalog import (
    CONTROL_MODELS,
    CONTROL_TOPICS,
    INPUT_MODELS,
    INPUT_TOPICS,
    OUTPUT_MODELS,
    OUTPUT_TOPICS,
    TOPIC_MODELS,
)
from schemas.common import OutputModel, StrictInput
from schemas.export import SCHEMA_DIR


def test_each_topic_is_in_exactly_one_group() -> None:
    groups = [set(INPUT_TOPICS), set(OUTPUT_TOPICS), set(CONTROL_TOPICS)]
    assert sum(len(g) for g in groups) == len(TOPIC_MODELS)
    assert set().union(*groups) == set(TOPIC_MODELS)
    assert (
        tuple(INPUT_MODELS),
        tuple(OUTPUT_MODELS),
        tuple(CONTROL_MODELS),
    ) == (INPUT_TOPICS, OUTPUT_TOPICS, CONTROL_TOPICS)


@pytest.mark.parametrize("topic", list(TOPIC_MODELS))
def test_every_topic_has_a_json_schema_file_of_its_model(topic: str) -> None:
    path = SCHEMA_DIR / f"{topic}.json"
    assert path.is_file(), f"{path.name} missing: run `signalbank schemas export`"
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["x-topic"] == topic
    assert schema["title"] == TOPIC_MODELS[topic].__name__


def test_inputs_are_strict_outputs_are_output_models_and_each_input_names_its_type() -> None:
    assert all(issubclass(m, StrictInput) for m in INPUT_MODELS.values())
    assert all(issubclass(m, OutputModel) for m in OUTPUT_MODELS.values())
    types = [m.model_fields["type"].default for m in INPUT_MODELS.values()]
    assert sorted(types) == ["customer", "interaction", "transaction"]
