"""Custom Keras objects in saved `.keras` files: which modules register them, and loading.

A plugin's Keras classes (focal loss, the CSV text layers, a third-party layer) are registered
with `keras.saving.register_keras_serializable` when their module is imported. The built-in
plugins import theirs (`automl_plugins.keras_objects`) only when they build a component, so that
`automl validate` never imports Keras; loading a saved model therefore imports that module first,
plus the modules `automl export` found in the model (`keras_imports` in `model.json`), which is
also what the model card tells a plain-Keras user to import.
"""

from __future__ import annotations

import importlib
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from automl.errors import StudyError
from automl.plugins import KERAS_OBJECTS_MODULE, Catalog


def keras_imports(path: str | Path) -> list[str]:
    """The modules that register the custom classes a saved `.keras` file uses, sorted.

    Keras records the defining module of every registered class (`"module"` beside a
    `"registered_name"` of the form `package>Class`) in the file's `config.json`.
    """
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if ">" in str(node.get("registered_name") or "") and node.get("module"):
                found.add(str(node["module"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return sorted(found)


def plugin_packages(catalog: Catalog) -> set[str]:
    """The top-level packages of the loaded plugins' modules: where a model's classes may live."""
    return {getattr(p, "__name__", "").partition(".")[0] for p in catalog.pm.get_plugins()}


def import_keras_objects(
    modules: Iterable[str], packages: Iterable[str] = (), card: dict[str, Any] | None = None
) -> None:
    """Import the built-ins' Keras classes and `modules` (what a model's file or card names).

    Only modules of `packages` (the top-level packages of the loaded plugins) are imported: a
    saved file or a `model.json` cannot make automl import a module that no plugin provides. A
    module that cannot be imported is an error naming it and the plugin packages to install
    (from the card's `plugins`).
    """
    allowed = {KERAS_OBJECTS_MODULE.partition(".")[0], *packages}
    listed = [m for m in modules if m.partition(".")[0] in allowed]
    for module in dict.fromkeys([KERAS_OBJECTS_MODULE, *listed]):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            hint = plugins_to_install(card)
            raise StudyError(
                f"the model needs the Python module {module!r}, which cannot be imported here "
                f"({exc}): install the plugin that provides it" + (f" ({hint})" if hint else "")
            ) from exc


def plugins_to_install(card: dict[str, Any] | None) -> str:
    """`dist==1.0, other` for the non-built-in plugins the card records ('' when none)."""
    needed = [p for p in (card or {}).get("plugins", []) if p.get("source") != "built-in"]
    return ", ".join(
        f"{p['distribution'] or p['plugin']}" + (f"=={p['version']}" if p.get("version") else "")
        for p in needed
    )
