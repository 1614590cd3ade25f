"""``dev``'s rules-folder watcher: valid edits are published, invalid ones reported and ignored."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from rules.load.ruleset import Ruleset, load_sources
from streams.control.watcher import RulesWatcher
from tests.support.rule_texts import BROKEN, SECOND, SEEN


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


def test_a_failed_publish_is_reported_and_the_watch_goes_on(folder: Path) -> None:
    published: list[str] = []
    lines: list[str] = []
    failing = [True]

    def publish(ruleset: Ruleset, sources: Sequence[tuple[str, str]]) -> None:
        if failing[0]:
            raise ConnectionError("broker down")
        published.append(ruleset.version)

    def wait_for(check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + 5
        while not check():
            assert time.monotonic() < deadline, f"{what}: {lines}"
            time.sleep(0.01)

    sources = [(str(folder / "seen.yaml"), SEEN)]
    watcher = RulesWatcher(
        folder, publish, lines.append, interval=0.01, published=sources, version=load_sources(sources).version
    )
    watcher.start()
    try:
        (folder / "second.yaml").write_text(SECOND)
        wait_for(lambda: "rules: could not publish: ConnectionError('broker down')" in lines, "the failure")
        assert watcher.is_alive() and published == []
        failing[0] = False
        touch_later(folder / "seen.yaml", SEEN.replace("message: seen", "message: seen again"))
        wait_for(lambda: bool(published), "the next edit published")
    finally:
        watcher.stop()
    assert not watcher.is_alive()
    assert lines[-1] == f"rules: published {published[0]}"


def test_an_edit_whose_publish_failed_is_published_once_the_broker_is_back(folder: Path) -> None:
    """The folder does not change again: the next round retries the same edit."""
    published: list[str] = []
    failing = [True]

    def publish(ruleset: Ruleset, sources: Sequence[tuple[str, str]]) -> None:
        if failing[0]:
            raise ConnectionError("broker down")
        published.append(ruleset.version)

    sources = [(str(folder / "seen.yaml"), SEEN)]
    watcher = RulesWatcher(folder, publish, published=sources, version=load_sources(sources).version)
    (folder / "second.yaml").write_text(SECOND)
    with pytest.raises(ConnectionError):
        watcher.check()
    failing[0] = False
    version = watcher.check()
    assert version is not None and published == [version]
    assert watcher.check() is None  # published once, not again
