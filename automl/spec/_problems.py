"""Problems found while reading a search space, each with its YAML path and line."""

from __future__ import annotations

from collections.abc import Iterable

from automl.errors import Problem, SpecError
from automl.registry import did_you_mean

YamlPath = tuple[str | int, ...]


def dotted(path: YamlPath) -> str:
    """`("model", "mlp", "units")` -> `model.mlp.units`; list indices as `[0]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Problems:
    """Collects every problem of a search space (not just the first), with their lines."""

    def __init__(self, lines: dict[YamlPath, int] | None = None, source: str = "") -> None:
        self.lines = lines or {}
        self.source = source
        self.found: list[Problem] = []

    def __bool__(self) -> bool:
        return bool(self.found)

    def line(self, path: YamlPath) -> int | None:
        """The line of `path`, or of its closest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def add(self, path: YamlPath, message: str, data: bool = False) -> None:
        """Record a problem at `path` (`data`: found in the data the file names)."""
        self.found.append(Problem(dotted(path), message, self.line(path), data))

    def unknown_key(self, path: YamlPath, key: str, allowed: Iterable[str]) -> None:
        """`unknown key 'trails'; did you mean 'trials'? Expected one of: ...`."""
        allowed = list(allowed)
        self.add(
            (*path, key),
            f"unknown key {key!r}{did_you_mean(str(key), allowed)} "
            f"Expected one of: {', '.join(allowed)}",
        )

    def raise_if_any(self) -> None:
        """Raise one `SpecError` listing every problem found so far."""
        if self.found:
            raise SpecError(self.found, self.source)
