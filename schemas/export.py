"""Render the contract of every topic: one JSON Schema per topic and one AsyncAPI 3.0 document.

``signalbank schemas export`` writes them to ``schemas/json`` and ``schemas/asyncapi.yaml``; tests
fail when the committed files differ from what the models render, and ``make contracts-check``
validates the AsyncAPI document with the official parser. Everything comes from the catalogue and
the pydantic models (``model_json_schema``); how topics are laid out on a broker (compaction,
retention) is passed in by the caller, since schemas/ imports nothing of ours.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schemas.catalog import (
    CHURN_ALERTS,
    CONTROL_TOPICS,
    DEAD_LETTERS,
    INPUT_TOPICS,
    OFFERS,
    OUTPUT_TOPICS,
    RISK_SIGNALS,
    RULES_CONTROL,
    SERVICE_ALERTS,
    SIGNALS,
    TIER_CHANGES,
    TOPIC_MODELS,
)

SCHEMA_DIR = Path(__file__).resolve().parent / "json"
ASYNCAPI_PATH = Path(__file__).resolve().parent / "asyncapi.yaml"
#: Version of the contract as a whole: minor for compatible changes (docs/topics.md, "Evolution"),
#: major when a topic gets a new version (``.v2``).
CONTRACT_VERSION = "1.4.0"
_KAFKA_BINDING = "0.5.0"
_REF = "#/components/schemas/{model}"

#: Who reads each output topic downstream (the worker sends them all).
CONSUMERS: dict[str, str] = {
    CHURN_ALERTS: "CRM retention queues and the call centre act on churn alerts",
    OFFERS: "campaign tools and channels (mobile, web, branch, call centre) present the offers",
    SIGNALS: "CRM (customer-360 tags, care moments)",
    SERVICE_ALERTS: "the complaints team and the call centre (SLA warnings and breaches)",
    RISK_SIGNALS: "the fraud team and payment systems (step-up authentication, holds, calls)",
    TIER_CHANGES: "CRM keeps each customer's value tier",
    DEAD_LETTERS: "the producing team and operators: invalid inputs, with their bytes and the reasons",
}
_CUSTOMER_KEY = {
    "type": "string",
    "description": "The customer id, UTF-8: one customer's records stay in one partition, in order.",
    "minLength": 1,
    "maxLength": 64,
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$",
}
_RULESET_KEY = {"type": "string", "const": "ruleset", "description": "Constant: compaction keeps the latest."}


@dataclass(frozen=True, slots=True)
class TopicLayout:
    """How a topic is created on the broker (streams/kafka/topics.py), as the contract states it."""

    compacted: bool
    retention_ms: int | None = None  # None: compacted (kept per key) or the broker's default
    partitions: int | None = None  # None: the deployment's SIGNALBANK_PARTITIONS


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


def _summary(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or model.__name__).split())


def _channel_binding(topic: str, layout: TopicLayout | None) -> dict[str, Any]:
    binding: dict[str, Any] = {"topic": topic, "bindingVersion": _KAFKA_BINDING}
    if layout is None:
        return binding
    if layout.partitions is not None:
        binding["partitions"] = layout.partitions
    config: dict[str, Any] = {"cleanup.policy": ["compact" if layout.compacted else "delete"]}
    if layout.retention_ms is not None:
        config["retention.ms"] = layout.retention_ms
    binding["topicConfiguration"] = config
    return binding


def _operation(action: str, topic: str, message: str, service: str, summary: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{topic}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{topic}/messages/{message}"}],
        "tags": [{"name": service}],
    }


def _operations(message_of: Mapping[str, str], group: str) -> dict[str, Any]:
    """Who sends and who receives each topic: the worker, ``rules publish``, downstream systems."""
    operations: dict[str, Any] = {}
    for topic in INPUT_TOPICS:
        operation = _operation(
            "receive",
            topic,
            message_of[topic],
            "signalbank-worker",
            "Every signalbank worker reads it in the consumer group (partitions shared among workers).",
        )
        operation["bindings"] = {
            "kafka": {"groupId": {"type": "string", "const": group}, "bindingVersion": _KAFKA_BINDING}
        }
        operations[f"worker-receives-{topic}"] = operation
    for topic in OUTPUT_TOPICS:
        operations[f"worker-sends-{topic}"] = _operation(
            "send", topic, message_of[topic], "signalbank-worker", "The signalbank worker sends it."
        )
        operations[f"downstream-receives-{topic}"] = _operation(
            "receive",
            topic,
            message_of[topic],
            "downstream",
            CONSUMERS[topic][0].upper() + CONSUMERS[topic][1:] + ".",
        )
    for topic in CONTROL_TOPICS:
        operations[f"rules-publish-sends-{topic}"] = _operation(
            "send",
            topic,
            message_of[topic],
            "signalbank-rules-publish",
            "`signalbank rules publish` (and `signalbank dev`'s watcher) publish a validated ruleset.",
        )
        operations[f"worker-receives-{topic}"] = _operation(
            "receive",
            topic,
            message_of[topic],
            "signalbank-worker",
            "Every worker reads it from the start, outside the consumer group, and switches rulesets.",
        )
    return operations


def asyncapi_document(layouts: Mapping[str, TopicLayout], group: str = "signalbank") -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic as a dict: channels, messages, operations, servers.

    Payload schemas are the models' own (``models_json_schema``, references rewritten to
    ``#/components/schemas``); ``layouts`` says how each topic is created; ``group`` is the
    workers' consumer group (``SIGNALBANK_APP_ID``'s default).
    """
    models = sorted({model for model in TOPIC_MODELS.values()}, key=lambda m: m.__name__)
    _, definitions = models_json_schema([(m, "validation") for m in models], ref_template=_REF)
    schemas = dict(sorted(definitions.get("$defs", {}).items()))
    messages: dict[str, Any] = {}
    for model in models:
        key = _RULESET_KEY if model is TOPIC_MODELS[RULES_CONTROL] else _CUSTOMER_KEY
        messages[model.__name__] = {
            "name": model.__name__,
            "title": model.__name__,
            "summary": _summary(model),
            "contentType": "application/json",
            "payload": {"$ref": _REF.format(model=model.__name__)},
            "bindings": {"kafka": {"key": dict(key), "bindingVersion": _KAFKA_BINDING}},
        }
    message_of = {topic: model.__name__ for topic, model in TOPIC_MODELS.items()}
    channels: dict[str, Any] = {}
    for topic, model in TOPIC_MODELS.items():
        direction = "input" if topic in INPUT_TOPICS else "output" if topic in OUTPUT_TOPICS else "control"
        channels[topic] = {
            "address": topic,
            "title": topic,
            "description": f"{direction.capitalize()} topic: {_summary(model)}",
            "messages": {model.__name__: {"$ref": f"#/components/messages/{model.__name__}"}},
            "bindings": {"kafka": _channel_binding(topic, layouts.get(topic))},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "signalbank topics",
            "version": CONTRACT_VERSION,
            "description": (
                "Real-time customer signals for retail banks: the input topics signalbank reads, the "
                "outputs it sends and the rules topic that steers its workers. Generated from "
                "schemas/catalog.py and the pydantic models by `signalbank schemas export`; see "
                "docs/topics.md for when outputs are sent and how the contract evolves."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "dev": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": (
                    "A local broker at the settings' default SIGNALBANK_KAFKA_URL; `signalbank dev` "
                    "starts an embedded Kafka-compatible one (Tansu) on a free port and prints it."
                ),
            },
            "compose": {
                "host": "localhost:9094",
                "protocol": "kafka",
                "description": "The Docker Compose stack's Apache Kafka from the host (kafka:9092 inside).",
            },
        },
        "channels": channels,
        "operations": _operations(message_of, group),
        "components": {"schemas": schemas, "messages": messages},
    }


def render_asyncapi(layouts: Mapping[str, TopicLayout]) -> str:
    """The AsyncAPI document as YAML text, deterministic so staleness is a plain diff."""
    text = yaml.safe_dump(asyncapi_document(layouts), sort_keys=False, allow_unicode=True, width=100)
    return "# Generated by `signalbank schemas export` from schemas/catalog.py: do not edit.\n" + text


def export_asyncapi(layouts: Mapping[str, TopicLayout], path: Path = ASYNCAPI_PATH) -> Path:
    """Write the AsyncAPI document beside the JSON Schemas."""
    path.write_text(render_asyncapi(layouts), encoding="utf-8")
    return path
