"""Publishing rulesets and following them: the record format, the runtime swap, the follower against
the real broker, the dev folder watcher and ``signalbank rules publish``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from rules.load.problems import RulesetError
from rules.load.ruleset import Ruleset, load_sources
from schemas.catalog import RULES_CONTROL
from schemas.control import RuleSource
from streams.control.follower import RulesFollower
from streams.control.publication import (
    RULESET_KEY,
    RejectedPublication,
    decode,
    encode,
    publication_of,
    publish,
    validate,
)
from streams.control.watcher import RulesWatcher
from streams.dev.embedded import EmbeddedKafka
from streams.runtime import Runtime
from streams.settings import Settings

SEEN = """rules:
  - id: tag.seen
    kind: tag
    tag: seen
    description: Any transaction
    when: event.kind != ""
    message: seen
"""
SECOND = SEEN.replace("tag.seen", "tag.second").replace("tag: seen", "tag: second")
BROKEN = SEEN.replace('event.kind != ""', "profile.nope > 1")


def ruleset_of(*files: tuple[str, str]) -> Ruleset:
    return load_sources(list(files))


def eventually(check: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout}s"
        time.sleep(0.05)


def runtime_for(folder: Path) -> Runtime:
    return Runtime(Settings(rules_dir=folder))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "seen.yaml").write_text(SEEN)
    return tmp_path


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


def test_runtime_swap_shows_exactly_the_active_version(folder: Path) -> None:
    runtime = runtime_for(folder)
    first = runtime.ruleset  # the folder's, loaded on first use
    assert runtime.ruleset is first
    second = ruleset_of(("a.yaml", SEEN), ("b.yaml", SECOND))
    assert runtime.use_ruleset(second, "test")
    assert runtime.ruleset is second
    assert not runtime.use_ruleset(ruleset_of(("a.yaml", SEEN), ("b.yaml", SECOND)), "same version")
    registry = runtime.metrics.registry
    info = {
        s.labels["version"]: s.value
        for m in registry.collect()
        for s in m.samples
        if s.name == "signalbank_ruleset_info"
    }
    assert info == {second.version: 1.0}
    assert registry.get_sample_value("signalbank_ruleset_updates_total") == 1.0


def test_runtime_starts_with_a_published_ruleset_without_loading_the_folder(tmp_path: Path) -> None:
    runtime = runtime_for(tmp_path / "missing")  # loading this folder would fail
    published = ruleset_of(("seen.yaml", SEEN))
    assert not runtime.has_ruleset
    runtime.use_ruleset(published, "test")
    assert runtime.ruleset is published


def publish_text(bootstrap: str, topic: str, *files: tuple[str, str]) -> str:
    """Publish files as-is (even invalid ones, as a buggy publisher might); return their version."""
    try:
        version = load_sources(list(files)).version
    except RulesetError:
        version = "invalid"
    valid = publication_of(ruleset_of(("seen.yaml", SEEN)), [("seen.yaml", SEEN)])
    record = valid.model_copy(
        update={"version": version, "files": [RuleSource(name=n, text=t) for n, t in files]}
    )
    publish(bootstrap, record, topic=topic)
    return version


def rejected(runtime: Runtime) -> float:
    return runtime.metrics.registry.get_sample_value("signalbank_ruleset_rejected_total") or 0.0


def test_follower_catches_up_then_follows_and_rejects_invalid(
    kafka_server: EmbeddedKafka, folder: Path
) -> None:
    topic = f"test.rules.{uuid.uuid4().hex[:8]}"
    runtime = runtime_for(folder)
    follower = RulesFollower(kafka_server.bootstrap, runtime, topic=topic)
    started = time.monotonic()
    assert not follower.catch_up(timeout=10)  # no topic yet: tolerated, quickly
    assert time.monotonic() - started < 5
    assert not runtime.has_ruleset
    first = publish_text(kafka_server.bootstrap, topic, ("seen.yaml", SEEN))
    follower.start()
    try:
        eventually(lambda: runtime.has_ruleset and runtime.ruleset.version == first, what="first publication")
        publish_text(kafka_server.bootstrap, topic, ("seen.yaml", BROKEN))
        eventually(lambda: rejected(runtime) == 1, what="rejection")
        assert runtime.ruleset.version == first
        second = publish_text(kafka_server.bootstrap, topic, ("seen.yaml", SEEN), ("second.yaml", SECOND))
        eventually(lambda: runtime.ruleset.version == second, what="second publication")
    finally:
        follower.stop()

    # A new follower (a restarted worker) catches up with the latest valid publication at once.
    publish_text(kafka_server.bootstrap, topic, ("seen.yaml", BROKEN))
    restarted = runtime_for(folder)
    late = RulesFollower(kafka_server.bootstrap, restarted, topic=topic)
    try:
        assert late.catch_up(timeout=10)
    finally:
        late.stop()
    assert restarted.ruleset.version == second
    assert rejected(restarted) == 1  # the newest record, invalid; older ones are superseded


def test_catch_up_tolerates_an_unreachable_broker(folder: Path) -> None:
    from streams.dev.embedded import free_port

    runtime = runtime_for(folder)
    follower = RulesFollower(f"127.0.0.1:{free_port()}", runtime)
    try:
        assert not follower.catch_up(timeout=2)
    finally:
        follower.stop()
    assert runtime.ruleset.version == ruleset_of(("x", SEEN)).version  # the folder's


class Recorder:
    def __init__(self) -> None:
        self.published: list[str] = []
        self.lines: list[str] = []

    def publish(self, ruleset: Ruleset, sources: Sequence[tuple[str, str]]) -> None:
        self.published.append(ruleset.version)


def touch_later(path: Path, text: str) -> None:
    """Write, making sure the mtime moves even on coarse clocks."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_watcher_publishes_valid_edits_and_reports_invalid_ones(folder: Path) -> None:
    recorder = Recorder()
    sources = [(str(folder / "seen.yaml"), SEEN)]
    first = load_sources(sources).version
    watcher = RulesWatcher(folder, recorder.publish, recorder.lines.append, published=sources, version=first)
    assert watcher.check() is None  # nothing changed

    touch_later(folder / "seen.yaml", BROKEN)
    assert watcher.check() is None
    assert f"rules: {folder / 'seen.yaml'}:6:19: rules.0.when: unknown field profile.nope" in recorder.lines
    assert recorder.lines[-1] == f"rules: 1 problem(s); the workers keep ruleset {first}"
    assert recorder.published == []

    touch_later(folder / "seen.yaml", SEEN)  # reverted: the workers already run it
    assert watcher.check() is None
    assert recorder.published == []

    (folder / "second.yaml").write_text(SECOND)
    second = watcher.check()
    assert second is not None and second != first
    assert recorder.published == [second]
    assert recorder.lines[-1] == f"rules: published {second}"


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
