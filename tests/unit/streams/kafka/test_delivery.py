"""Sending a batch's outputs: all acknowledged, or the delivery fails with each refusal counted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel

from agents.metrics import Metrics
from agents.outputs import OutputRecord
from streams.kafka.delivery import send_all


class Topic:
    """A Faust topic's ``send``: returns a future the broker's answer resolves (or fails)."""

    def __init__(self, refuse_send: bool = False, refuse_ack: bool = False) -> None:
        self.refuse_send, self.refuse_ack = refuse_send, refuse_ack
        self.sent: list[bytes] = []

    async def send(self, key: bytes, value: bytes) -> asyncio.Future[Any]:
        if self.refuse_send:
            raise RuntimeError("message too large")
        self.sent.append(key)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.refuse_ack:
            future.set_exception(RuntimeError("not enough replicas"))
        else:
            future.set_result(None)
        return future


class Value(BaseModel):
    k: str


def record(topic: str, key: str) -> OutputRecord:
    return OutputRecord(topic=topic, key=key.encode(), value=Value(k=key))


def errors(metrics: Metrics, topic: str) -> float | None:
    return metrics.registry.get_sample_value("signalbank_output_send_errors_total", {"topic": topic})


def test_every_output_is_sent_and_nothing_is_counted_as_an_error() -> None:
    metrics, topics = Metrics(), {"a": Topic(), "b": Topic()}
    asyncio.run(send_all(topics, [record("a", "1"), record("b", "2"), record("a", "3")], metrics))
    assert topics["a"].sent == [b"1", b"3"] and topics["b"].sent == [b"2"]
    assert errors(metrics, "a") is None


def test_refused_acknowledgements_are_counted_by_topic_and_fail_the_delivery() -> None:
    metrics, topics = Metrics(), {"a": Topic(refuse_ack=True), "b": Topic()}
    with pytest.raises(RuntimeError, match="not enough replicas"):
        asyncio.run(send_all(topics, [record("a", "1"), record("b", "2"), record("a", "3")], metrics))
    assert topics["b"].sent == [b"2"], "the other outputs were still sent"
    assert errors(metrics, "a") == 2 and errors(metrics, "b") is None


def test_a_send_that_raises_is_counted_and_fails_the_delivery() -> None:
    metrics, topics = Metrics(), {"a": Topic(), "b": Topic(refuse_send=True)}
    with pytest.raises(RuntimeError, match="too large"):
        asyncio.run(send_all(topics, [record("a", "1"), record("b", "2")], metrics))
    assert errors(metrics, "b") == 1
