"""Plugins and components as plain data and as text: what `automl plugins` prints.

`describe_plugins(catalog)` is the JSON of `automl plugins --json`; `format_plugins(rows)` turns
the same rows into the text listing, so both outputs always say the same.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from automl.components import TASKS, Component
from automl.plugins import DISABLE_ENV, Catalog
from automl.registry import KIND_TITLES


def describe_component(component: Component) -> dict[str, Any]:
    """A component as plain data: kind, name, help, tasks and every parameter with its range."""
    out: dict[str, Any] = {
        "kind": component.kind,
        "name": component.name,
        "help": component.help,
        "tasks": list(component.tasks),
        "params": [
            {
                "name": p.name,
                "type": p.type,
                "default": p.default,
                "range": p.default_range(),
                "bounds": list(p.bounds) if p.bounds is not None else None,
                "choices": list(p.choices) if p.choices is not None else None,
                "help": p.help,
            }
            for p in component.params
        ],
    }
    direction = getattr(component, "direction", None)
    if component.kind == "metric" and direction:
        out["direction"] = direction
    return out


def describe_plugins(catalog: Catalog) -> list[dict[str, Any]]:
    """Every plugin with its origin, hooks and components; broken and blocked ones too."""
    rows = [
        {**asdict(info), "components": [describe_component(c) for c in catalog.components_of(name)]}
        for name, info in catalog.plugins.items()
    ]
    return rows + [{**asdict(info), "components": []} for info in catalog.blocked.values()]


def format_plugins(rows: list[dict[str, Any]]) -> str:
    """The text of `automl plugins`: one block per plugin, one line per component parameter."""
    lines: list[str] = []
    for row in rows:
        origin = row["source"]
        if row["distribution"]:
            origin += f", {row['distribution']} {row['version'] or ''}".rstrip()
        lines.append(f"{row['name']}  [{origin}]  {row['location'] or ''}".rstrip())
        if row.get("blocked"):
            lines.append(f"  BLOCKED: switched off by {DISABLE_ENV}")
        elif row["error"]:
            lines.append(f"  FAILED: {row['error']}")
        else:
            lines += _plugin_lines(row)
    return "\n".join(lines)


def _plugin_lines(row: dict[str, Any]) -> list[str]:
    """The hooks line, then each component with one line per parameter."""
    lines = [f"  hooks: {', '.join(row['hooks'])}"] if row["hooks"] else []
    for comp in row["components"]:
        lines.append(f"  {KIND_TITLES[comp['kind']]} {comp['name']}{_scope(comp)}: {comp['help']}")
        width = max((len(p["name"]) for p in comp["params"]), default=0)
        lines += [
            f"      {p['name'].ljust(width)}  {p['type']:<11} default {p['default']!r:<8} "
            f" {_range_text(p)}"
            for p in comp["params"]
        ]
    return lines


def _scope(comp: dict[str, Any]) -> str:
    """` (regression)`, ` (binary, multiclass, maximize)`, ` (minimize)` or nothing."""
    parts = [] if len(comp["tasks"]) == len(TASKS) else list(comp["tasks"])
    if comp.get("direction"):
        parts.append(comp["direction"])
    return f" ({', '.join(parts)})" if parts else ""


def _range_text(param: dict[str, Any]) -> str:
    rng = param["range"]
    if rng is None:
        return "fixed"
    if isinstance(rng, list):
        return "search one of " + ", ".join(map(str, rng))
    text = f"search {rng['low']:g}..{rng['high']:g}"
    if rng.get("log"):
        text += " log"
    if rng.get("step") is not None:
        text += f" step {rng['step']:g}"
    return text
