"""Small rule files the control tests publish, follow and watch, and a runtime on a folder of them."""

from __future__ import annotations

from pathlib import Path

from rules.load.ruleset import Ruleset, load_sources
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


def runtime_for(folder: Path) -> Runtime:
    return Runtime(Settings(rules_dir=folder))


def seen_folder(path: Path) -> Path:
    """``path`` holding one valid rule file, ``seen.yaml``."""
    (path / "seen.yaml").write_text(SEEN)
    return path
