"""schemas/asyncapi.yaml: current, and saying what the catalogue and the models say (the official
parser validates it in ``make contracts-check``)."""

from __future__ import annotations

from typing import Any

import yaml

from schemas.catalog import (
    CONTROL_TOPICS,
    CUSTOMERS,
    INPUT_TOPICS,
    OUTPUT_TOPICS,
    RULES_CONTROL,
    TOPIC_MODELS,
    TRANSACTIONS,
)
from schemas.export import ASYNCAPI_PATH, asyncapi_document, render_asyncapi
from streams.cli.schemas import topic_layouts


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ASYNCAPI_PATH.read_text(encoding="utf-8"))
    return loaded


def resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_the_committed_asyncapi_document_is_current() -> None:
    on_disk = ASYNCAPI_PATH.read_text(encoding="utf-8")
    assert on_disk == render_asyncapi(topic_layouts()), (
        "stale schemas/asyncapi.yaml: run `signalbank schemas export`"
    )


def test_every_topic_is_a_channel_whose_message_payload_is_its_models_schema() -> None:
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc["channels"]) == set(TOPIC_MODELS)
    for topic, model in TOPIC_MODELS.items():
        channel = doc["channels"][topic]
        assert channel["address"] == topic
        [message_ref] = channel["messages"].values()
        message = resolve(doc, message_ref["$ref"])
        payload = resolve(doc, message["payload"]["$ref"])
        expected = model.model_json_schema(mode="validation")
        assert set(payload["properties"]) == set(expected["properties"]), topic
        assert set(payload.get("required", ())) == set(expected.get("required", ())), topic
        assert payload.get("additionalProperties") == expected.get("additionalProperties"), topic
        key = message["bindings"]["kafka"]["key"]
        if topic in CONTROL_TOPICS:
            assert key["const"] == "ruleset"
        else:
            assert "customer id" in key["description"]


def test_nested_references_resolve_inside_the_document() -> None:
    doc = document()
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in refs:
        assert resolve(doc, ref) is not None, ref


def test_operations_say_who_sends_and_who_receives_each_topic() -> None:
    doc = document()
    by_channel: dict[str, set[tuple[str, str]]] = {}
    for operation in doc["operations"].values():
        topic = resolve(doc, operation["channel"]["$ref"])["address"]
        for tag in operation["tags"]:
            by_channel.setdefault(topic, set()).add((tag["name"], operation["action"]))
    for topic in INPUT_TOPICS:
        assert by_channel[topic] == {("signalbank-worker", "receive")}
    for topic in OUTPUT_TOPICS:
        assert by_channel[topic] == {("signalbank-worker", "send"), ("downstream", "receive")}
    assert by_channel[RULES_CONTROL] == {
        ("signalbank-rules-publish", "send"),
        ("signalbank-worker", "receive"),
    }


def test_channel_bindings_carry_the_topic_layout() -> None:
    channels = asyncapi_document(topic_layouts())["channels"]
    customers = channels[CUSTOMERS]["bindings"]["kafka"]["topicConfiguration"]
    assert customers == {"cleanup.policy": ["compact"]}
    transactions = channels[TRANSACTIONS]["bindings"]["kafka"]["topicConfiguration"]
    assert transactions["cleanup.policy"] == ["delete"] and transactions["retention.ms"] > 0
    assert channels[RULES_CONTROL]["bindings"]["kafka"]["partitions"] == 1
