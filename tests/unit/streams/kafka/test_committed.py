"""The consumer group's committed offsets, read from a real broker, and the dedupe ring forgetting
the events before them in a real worker."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from schemas.catalog import INTERACTIONS, OFFERS, TRANSACTIONS
from schemas.common import Channel
from schemas.inputs import Transaction, TransactionKind
from streams.dev.embedded import EmbeddedKafka, EmbeddedRedis, free_port
from streams.dev.run import WorkerProcess
from streams.kafka.admin import create_topics
from streams.kafka.committed import ADMIN_TIMEOUT_MS, CommittedOffsets, admin_options, packed_offsets
from tests.support.kafka_io import produce
from tests.support.profile_events import ring_of
from tests.support.profile_events import sha1_prefix as _sha1


def _meta(offset: int) -> OffsetAndMetadata:
    return OffsetAndMetadata(offset, "", -1)


def test_packed_offsets_are_the_input_topics_with_a_committed_offset() -> None:
    offsets = {
        TopicPartition(INTERACTIONS, 2): _meta(7),
        TopicPartition(TRANSACTIONS, 11): _meta(2**40),
        TopicPartition(TRANSACTIONS, 0): _meta(-1),  # nothing committed
        TopicPartition(OFFERS, 0): _meta(5),  # not an input topic
    }
    assert packed_offsets(offsets) == f"0:11:{2**40},1:2:7"


@pytest.fixture
def own_broker() -> Iterator[EmbeddedKafka]:
    """A broker of its own: these tests leave consumer groups and committed offsets behind."""
    with EmbeddedKafka() as broker:
        create_topics(broker.bootstrap, partitions=4)
        yield broker


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s"
        time.sleep(0.1)


def test_follows_what_the_group_commits(own_broker: EmbeddedKafka) -> None:
    consumer = KafkaConsumer(bootstrap_servers=own_broker.bootstrap, group_id="g1", enable_auto_commit=False)
    offsets = CommittedOffsets(own_broker.bootstrap, "g1", interval_s=0.1)
    offsets.start()
    try:
        tp = TopicPartition(TRANSACTIONS, 3)
        consumer.assign([tp])
        consumer.commit({tp: _meta(4)})
        _wait(lambda: offsets.packed() == "0:3:4", "the first commit")
        consumer.commit({tp: _meta(9)})
        _wait(lambda: offsets.packed() == "0:3:9", "the second commit")
    finally:
        offsets.stop()
        consumer.close()


def _deposit(customer: str, n: int) -> tuple[str, bytes, bytes]:
    event = Transaction(
        event_id=f"{customer}-{n}",
        customer_id=customer,
        occurred_at=datetime.now(UTC) - timedelta(hours=1) + timedelta(seconds=n),
        account_id="A1",
        kind=TransactionKind.DEPOSIT,
        amount=Decimal("1.00"),
        currency="EUR",
        channel=Channel.MOBILE,
    )
    return TRANSACTIONS, customer.encode(), event.model_dump_json().encode()


def _group_committed(bootstrap: str, group: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
        return sum(
            meta.offset for tp, meta in offsets.items() if tp.topic == TRANSACTIONS and meta.offset > 0
        )
    finally:
        admin.close()


def test_worker_forgets_event_ids_once_the_group_committed_them(
    own_broker: EmbeddedKafka, redis_server: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    monkeypatch.setenv("SIGNALBANK_COMMITTED_POLL_S", "0.2")
    group = f"ring-{os.getpid()}"
    worker = WorkerProcess(own_broker.url, redis_server.url, partitions=4, rules_dir=None, app_id=group)
    worker.start()
    try:
        worker.wait_ready()

        produce(own_broker.bootstrap, [_deposit("RING1", n) for n in range(30)])
        _wait(lambda: worker.events_read() >= 30, "the first 30 events")
        _wait(lambda: _group_committed(own_broker.bootstrap, group) == 30, "their commit")
        time.sleep(1.0)  # several readings of the committed offsets by the worker
        produce(own_broker.bootstrap, [_deposit("RING1", 30)])
        _wait(lambda: worker.events_read() >= 31, "the 31st event")
        # the 30 committed entries became kept hashes when the next event came: it alone is pending
        kept, pending = ring_of(client, "RING1")
        assert kept == [_sha1(f"RING1-{n}") for n in range(30)], worker.log_tail()
        assert [(code, offset) for code, _, offset in pending] == [(0, 30)]
    finally:
        worker.stop()
        client.close()


def test_an_unreachable_broker_leaves_the_reading_empty_and_is_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    offsets = CommittedOffsets(f"127.0.0.1:{free_port()}", "g2", interval_s=0.05)
    with caplog.at_level(logging.WARNING, logger="streams.kafka.committed"):
        offsets.start()
        _wait(lambda: bool(_ours(caplog)), "the warning")
        time.sleep(0.5)  # more failed attempts: still one warning
        offsets.stop()
    assert offsets.packed() == ""
    assert [r.getMessage().split(" (")[0] for r in _ours(caplog)] == [
        "cannot read committed offsets of group g2"
    ]


def _ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "streams.kafka.committed"]


def _threads(group: str) -> list[str]:
    """Live threads of one ``CommittedOffsets``: its reader and its admin client's network thread."""
    return [t.name for t in threading.enumerate() if t.name == "committed-offsets" or group in t.name]


def test_the_admin_client_waits_at_most_the_admin_timeout() -> None:
    options = admin_options("127.0.0.1:1", "g4")
    assert options["bootstrap_timeout_ms"] == options["request_timeout_ms"] == ADMIN_TIMEOUT_MS == 3_000


def test_an_unreachable_broker_is_given_up_within_seconds_and_a_stop_returns_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """kafka-python alone waits 30 s for a bootstrap: the first failure would come after 30 s, and
    a stop during an attempt would wait for it (or give up joining after 10 s, the thread left)."""
    offsets = CommittedOffsets(f"127.0.0.1:{free_port()}", "g3", interval_s=0.05)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="streams.kafka.committed"):
        offsets.start()
        _wait(lambda: bool(_ours(caplog)), "the first failed attempt", timeout=10.0)
    first_failure = time.monotonic() - started
    assert ADMIN_TIMEOUT_MS / 1000 - 0.5 < first_failure < ADMIN_TIMEOUT_MS / 1000 + 3.0
    time.sleep(0.5)  # the next attempt is under way
    stopping = time.monotonic()
    offsets.stop()
    assert time.monotonic() - stopping < ADMIN_TIMEOUT_MS / 1000 + 2.0
    assert _threads("g3") == []  # the reader ended, and no failed attempt left a network thread
