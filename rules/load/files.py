"""Find and read rule files on disk, as (file name, text) pairs the loader takes.

The control topic carries the same pairs, so a ruleset loads the same way from either source.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rules.load.problems import RuleProblem, RulesetError


def yaml_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to their ``*.yaml``/``*.yml`` files (not subfolders: a rules folder's ``tests``
    are test cases, not rules); files are taken as they are. Rule files and rule test files alike."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        else:
            found.append(path)
    return found


def read_sources(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(file name, text) of every rule file under ``paths``, as ``load_sources`` takes them."""
    files = yaml_files(paths)
    if not files:
        raise RulesetError([RuleProblem("<rules>", 1, 1, "no rule files found")])
    sources: list[tuple[str, str]] = []
    problems: list[RuleProblem] = []
    for path in files:
        try:
            sources.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(RuleProblem(str(path), 1, 1, f"cannot read: {exc}"))
    if problems:
        raise RulesetError(problems)
    return sources
