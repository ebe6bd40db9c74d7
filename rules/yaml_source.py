"""Read YAML keeping where each value was written, so an error can name line and column.

PyYAML silently keeps the last of two equal keys; an operator who pasted a rule twice
must hear about it, so duplicate keys are reported too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class YamlDocument:
    data: Any
    root: Node | None
    duplicates: list[tuple[str, Position]]

    def position(self, path: tuple[str | int, ...], key: bool = False) -> Position:
        """Where the value at `path` was written (its key, with `key`); the nearest
        ancestor if it is missing."""
        node = self.root
        if node is None:
            return Position(1, 1)
        for i, part in enumerate(path):
            if key and i == len(path) - 1 and isinstance(node, MappingNode):
                for k, _ in node.value:
                    if k.value == str(part):
                        return Position(k.start_mark.line + 1, k.start_mark.column + 1)
            child = _child(node, part)
            if child is None:
                break
            node = child
        return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _child(node: Node, part: str | int) -> Node | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return value if isinstance(value, Node) else None
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child = node.value[part]
        return child if isinstance(child, Node) else None
    return None


def _find_duplicates(node: Node | None, out: list[tuple[str, Position]]) -> None:
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                out.append((str(key.value), Position(key.start_mark.line + 1, key.start_mark.column + 1)))
            seen.add(key.value)
            _find_duplicates(value, out)
    elif isinstance(node, SequenceNode):
        for child in node.value:
            _find_duplicates(child, out)


def parse(text: str) -> YamlDocument:
    """Raises yaml.YAMLError (with its own line and column) on malformed YAML."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    data = yaml.safe_load(text) if root is not None else None
    duplicates: list[tuple[str, Position]] = []
    _find_duplicates(root, duplicates)
    return YamlDocument(data=data, root=root, duplicates=duplicates)
