"""Read YAML safely while remembering where every key and value sits in the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from rules.load.problems import RuleProblem

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based
    style: str | None = None


@dataclass(slots=True)
class YamlDocument:
    data: Any
    keys: dict[Path_, Position] = field(default_factory=dict)
    values: dict[Path_, Position] = field(default_factory=dict)

    def position(self, path: Path_) -> Position:
        """Position of the deepest known key along ``path`` (so errors point at the right line)."""
        for end in range(len(path), -1, -1):
            prefix = tuple(path[:end])
            if prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return Position(1, 1)


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1, getattr(node, "style", None))


def _walk(node: yaml.Node, path: Path_, doc: YamlDocument) -> None:
    doc.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            doc.keys[(*path, key)] = _mark(key_node)
            _walk(value_node, (*path, key), doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.keys[(*path, index)] = _mark(item)
            _walk(item, (*path, index), doc)


def parse_yaml(text: str) -> YamlDocument:
    """Parse with the safe loader; raise yaml.MarkedYAMLError on syntax errors."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(data=None)
        doc = YamlDocument(data=loader.construct_document(node))
        _walk(node, (), doc)
        return doc
    finally:
        loader.dispose()


def read_document(name: str, text: str, problems: list[RuleProblem]) -> YamlDocument | None:
    """Parse one rule or rule-test file; a syntax error or an empty file becomes a problem."""
    try:
        doc = parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(RuleProblem(name, line, column, f"YAML syntax: {exc.problem}"))
        return None
    if doc.data is None:
        problems.append(RuleProblem(name, 1, 1, "file is empty"))
        return None
    return doc
