"""``dev``'s rules-folder watcher: every valid edit is published to the workers, every invalid one is
reported with file:line:column and ignored, so the running worker keeps its last good ruleset.

Polling (about once a second) rather than inotify: no new dependency, works on every OS and on
mounted folders, and rule folders hold a handful of small files. A change is seen in the files'
(mtime, size) and confirmed on their text, so saving without edits publishes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from rules.load.files import yaml_files
from rules.load.problems import RulesetError
from rules.load.ruleset import Ruleset, load_sources, read_sources

Fingerprint = tuple[tuple[str, int, int], ...]
Publisher = Callable[[Ruleset, Sequence[tuple[str, str]]], None]


def fingerprint(folder: Path) -> Fingerprint:
    """(path, mtime_ns, size) of every rule file: cheap enough to take every second."""
    found = []
    for path in yaml_files([folder]):
        try:
            stat = path.stat()
        except OSError:  # deleted between listing and stat: the next poll sees the new state
            continue
        found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


class RulesWatcher(threading.Thread):
    """Polls ``folder``; ``check()`` does one round (the thread calls it every ``interval`` seconds)."""

    def __init__(
        self,
        folder: Path,
        publish: Publisher,
        emit: Callable[[str], None] = print,
        interval: float = 1.0,
        published: Sequence[tuple[str, str]] = (),
        version: str = "",
    ) -> None:
        super().__init__(name="rules-watcher", daemon=True)
        self._folder = folder
        self._publish = publish
        self._emit = emit
        self._interval = interval
        self._stop_event = threading.Event()
        self._seen: Fingerprint = fingerprint(folder) if published else ()
        self._sources: list[tuple[str, str]] = list(published)
        self.version = version  # last version published (the one the workers run)

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            try:
                self.check()
            except Exception as exc:  # a publish failure must not end the watch
                self._emit(f"rules: could not publish: {exc!r}")

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def check(self) -> str | None:
        """Publish the folder if it changed and is valid; return the version published, if any."""
        seen = fingerprint(self._folder)
        if seen == self._seen:
            return None
        self._seen = seen
        try:
            sources = read_sources([self._folder])
        except RulesetError as exc:
            self._report(exc)
            return None
        if sources == self._sources:
            return None
        self._sources = sources
        try:
            ruleset = load_sources(sources)
        except RulesetError as exc:
            self._report(exc)
            return None
        if ruleset.version == self.version:
            self._emit(f"rules: {ruleset.version} is already active")
            return None
        try:
            self._publish(ruleset, sources)
        except Exception:
            self._seen, self._sources = (), []  # not published: the next round tries again
            raise
        self.version = ruleset.version
        self._emit(f"rules: published {ruleset.version}")
        return ruleset.version

    def _report(self, exc: RulesetError) -> None:
        for problem in exc.problems:
            self._emit(f"rules: {problem}")
        kept = self.version or "(the folder's)"
        self._emit(f"rules: {len(exc.problems)} problem(s); the workers keep ruleset {kept}")
