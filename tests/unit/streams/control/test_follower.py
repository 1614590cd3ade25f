"""The rules follower against the real broker: it tolerates a missing topic and an unreachable broker,
catches up with the latest valid publication, follows new ones and rejects invalid ones."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

from rules.load.problems import RulesetError
from rules.load.ruleset import load_sources
from schemas.control import RuleSource
from streams.control.follower import RulesFollower
from streams.control.publication import publication_of, publish
from streams.dev.embedded import EmbeddedKafka
from streams.runtime import Runtime
from tests.support.rule_texts import BROKEN, SECOND, SEEN, ruleset_of, runtime_for


def eventually(check: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout}s"
        time.sleep(0.05)


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
