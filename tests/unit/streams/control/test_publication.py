"""Publishing rulesets: the record format (round trip, what is rejected and why) and
``signalbank rules publish`` against a broker of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from rules.load.ruleset import load_sources
from schemas.catalog import RULES_CONTROL
from streams.control.publication import (
    RULESET_KEY,
    RejectedPublication,
    decode,
    encode,
    publication_of,
    validate,
)
from streams.dev.embedded import EmbeddedKafka
from tests.support.rule_texts import BROKEN, SEEN, ruleset_of


def test_publication_round_trip_keeps_version_and_short_names(folder: Path) -> None:
    sources = [(str(folder / "seen.yaml"), SEEN)]
    ruleset = load_sources(sources)
    publication = publication_of(ruleset, sources)
    assert [f.name for f in publication.files] == ["seen.yaml"]
    decoded = decode(RULESET_KEY, encode(publication))
    assert decoded == publication
    assert validate(decoded).version == ruleset.version
    assert publication.host


def test_invalid_records_are_rejected_with_reasons() -> None:
    good = publication_of(ruleset_of(("seen.yaml", SEEN)), [("seen.yaml", SEEN)])
    with pytest.raises(RejectedPublication, match="unexpected key"):
        decode(b"other", encode(good))
    with pytest.raises(RejectedPublication, match="tombstone"):
        decode(RULESET_KEY, None)
    with pytest.raises(RejectedPublication, match="files"):
        decode(RULESET_KEY, b'{"version": "x", "published_at": "2026-01-01T00:00:00Z"}')
    broken = good.model_copy(update={"files": [good.files[0].model_copy(update={"text": BROKEN})]})
    with pytest.raises(RejectedPublication) as info:
        validate(broken)
    assert info.value.reasons == ["seen.yaml:6:19: rules.0.when: unknown field profile.nope"]


# --- the command line, against a broker of its own (it publishes to the real control topic) -----


@pytest.fixture(scope="module")
def own_broker() -> Iterator[EmbeddedKafka]:
    with EmbeddedKafka() as broker:
        yield broker


def signalbank(broker: EmbeddedKafka, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIGNALBANK_KAFKA_URL": broker.url}
    return subprocess.run(
        [sys.executable, "-m", "streams", *args], capture_output=True, text=True, timeout=120, env=env
    )


def control_records(broker: EmbeddedKafka) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    try:
        if not consumer.partitions_for_topic(RULES_CONTROL):
            return []
        partition = TopicPartition(RULES_CONTROL, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        values: list[bytes] = []
        deadline = time.monotonic() + 10
        while consumer.position(partition) < end and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                values.extend(r.value for r in batch)
        return values
    finally:
        consumer.close()


def test_cli_publish_refuses_invalid_rules(own_broker: EmbeddedKafka, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN)
    result = signalbank(own_broker, "rules", "publish", str(bad))
    assert result.returncode == 2  # bad input (was 1, like a failure, before exit codes were unified)
    assert f"{bad}:6:19: rules.0.when: unknown field profile.nope" in result.stderr
    assert "nothing published" in result.stderr
    assert control_records(own_broker) == []


def test_cli_publish_sends_one_record_with_the_version(own_broker: EmbeddedKafka, folder: Path) -> None:
    result = signalbank(own_broker, "rules", "publish", str(folder))
    assert result.returncode == 0, result.stderr
    version = load_sources([("seen.yaml", SEEN)]).version
    assert result.stdout.startswith(f"published ruleset {version} (")
    [record] = control_records(own_broker)
    publication = decode(RULESET_KEY, record)
    assert publication.version == version
    assert [(f.name, f.text) for f in publication.files] == [("seen.yaml", SEEN)]
