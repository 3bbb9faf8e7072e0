"""A search space as written (a YAML file or a dict of the same schema), before name resolution."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl.errors import Problem, SpecError
from automl.spec._problems import YamlPath
from automl.spec._yaml import read_yaml


@dataclass(frozen=True)
class RawSpace:
    """The parsed file: its data, the line of every path, where it came from, and its plugins.

    Args:
        data: the top-level mapping.
        lines: YAML path -> 1-based line (empty for a dict).
        source: the file path, or "" for a dict.
        plugins: the space's `plugins:` list (`.py` paths made relative to the file), then the
            extra ones given on the command line or to `tune(plugins=...)`.
    """

    data: Mapping[str, Any]
    lines: dict[YamlPath, int] = field(default_factory=dict)
    source: str = ""
    plugins: tuple[str, ...] = ()

    @property
    def base_dir(self) -> Path:
        """Relative paths in the space (data files, plugin files) are relative to this folder."""
        return Path(self.source).parent if self.source else Path(".")


def read_space(space: str | Path | Mapping[str, Any], plugins: Iterable[str] = ()) -> RawSpace:
    """Read a YAML file, or take a dict with the same schema; collect the plugins it needs."""
    if isinstance(space, Mapping):
        data: Mapping[str, Any] = space
        lines: dict[YamlPath, int] = {}
        source = ""
    elif isinstance(space, str | Path):
        data, lines = read_yaml(space)
        source = str(space)
    else:
        raise SpecError(
            [Problem("", f"expected a YAML file path or a dict, got {type(space).__name__}")]
        )
    listed = data.get("plugins") or []
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        line = lines.get(("plugins",))
        message = f"expected a list of plugin modules or .py paths, got {listed!r}"
        raise SpecError([Problem("plugins", message, line)], source)
    base = Path(source).parent if source else Path(".")
    local = [
        str(base / p) if p.endswith(".py") and not Path(p).is_absolute() else p for p in listed
    ]
    return RawSpace(data, lines, source, (*local, *plugins))
