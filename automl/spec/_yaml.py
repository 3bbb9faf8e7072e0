"""Read YAML safely and boundedly, remembering the line of every key and list item.

Bounded: a file over `MAX_BYTES`, nesting deeper than `MAX_DEPTH`, or more than `MAX_NODES` nodes
once aliases are expanded (a "billion laughs" alias bomb) is refused with a clean error before any
work grows with it. Only YAML's safe tags are accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from automl.errors import Problem, SpecError
from automl.spec._problems import YamlPath, dotted

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_NODES = 20_000


class _Loader(yaml.SafeLoader):
    """The safe loader (no Python tags)."""


def read_text(path: str | Path) -> str:
    """The UTF-8 text of a search-space file, with clear errors for what is not one."""
    path = Path(path)
    if path.is_dir():
        raise SpecError([Problem("", "expected a YAML file, got a directory")], str(path))
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError([Problem("", f"cannot read the file: {exc.strerror}")], str(path)) from None
    if len(raw) > MAX_BYTES:
        raise SpecError(
            [Problem("", f"expected a search space under {MAX_BYTES:,} bytes, got a larger file")],
            str(path),
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            [Problem("", f"expected UTF-8 text, got the byte {raw[exc.start]:#04x}", line)],
            str(path),
        ) from None


def _syntax_error(exc: yaml.YAMLError, source: str) -> SpecError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, yaml.constructor.ConstructorError):
        problem = f"{problem} (only plain YAML is accepted: no Python tags)"
        return SpecError([Problem("", f"unsupported YAML tag: {problem}", line)], source)
    return SpecError([Problem("", f"YAML syntax error: {problem}", line)], source)


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH from the event stream (no recursion, no tree)."""
    depth, line = 0, 1
    # libyaml's parser where installed: Python's scanner is quadratic in the nesting depth
    events = yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", _Loader))
    try:
        for event in events:
            if isinstance(event, yaml.CollectionStartEvent):
                depth, line = depth + 1, event.start_mark.line + 1
                if depth > MAX_DEPTH:
                    break
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.scanner.ScannerError as exc:  # libyaml's own limit (1000) came first
        if "maximum nesting depth" not in str(exc.problem):
            raise
        depth = MAX_DEPTH + 1
    if depth > MAX_DEPTH:
        message = f"expected nesting at most {MAX_DEPTH} levels deep, got deeper"
        raise SpecError([Problem("", message, line)], source)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the document once every alias is expanded (a recursive alias counts as too many).

    Iterative post-order over the node graph with memoized sizes: linear in the file's size.
    """
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            in_progress.discard(key)
            if sizes[key] > MAX_NODES:
                return sizes[key]
            continue
        if key in sizes:
            continue
        if key in in_progress:  # an alias inside its own anchor: infinite when expanded
            return MAX_NODES + 1
        in_progress.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _line_map(root: yaml.Node) -> tuple[dict[YamlPath, int], list[Problem]]:
    """The line of each path, and duplicate keys; an aliased node is walked once."""
    lines: dict[YamlPath, int] = {}
    problems: list[Problem] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, YamlPath]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key_node, value_node in node.value:
                key, key_line = key_node.value, key_node.start_mark.line + 1
                if key in keys:
                    problems.append(Problem(dotted((*path, key)), "duplicate key", key_line))
                keys.add(key)
                child: YamlPath = (*path, key)
                lines[child] = key_line
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                item_path: YamlPath = (*path, i)
                lines[item_path] = item.start_mark.line + 1
                stack.append((item, item_path))
    return lines, problems


def load_yaml_with_lines(text: str, source: str = "") -> tuple[Any, dict[YamlPath, int]]:
    """Parse YAML; return the data and a map from each path to its 1-based line number."""
    try:
        _check_depth(text, source)
        node = yaml.compose(text, Loader=_Loader)
        if node is None:
            return {}, {}
        size = _expanded_size(node)
        if size > MAX_NODES:
            message = f"expected at most {MAX_NODES:,} YAML nodes with aliases expanded, got more"
            raise SpecError([Problem("", message, 1)], source)
        lines, problems = _line_map(node)
        if problems:
            raise SpecError(problems, source)
        loader = _Loader(text)
        try:
            return loader.get_single_data(), lines
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None


def read_yaml(path: str | Path) -> tuple[dict[str, Any], dict[YamlPath, int]]:
    """Read a search-space file: its top-level mapping and the line of every path."""
    data, lines = load_yaml_with_lines(read_text(path), str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(
            [Problem("", f"expected a mapping at the top level, got {data!r}", 1)], str(path)
        )
    return data, lines
