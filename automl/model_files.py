"""Read what `automl export` wrote: `model.json` and `model.keras` (Keras safe mode).

Every way these files can be unusable is an `ArtifactError` naming the file: a truncated or
corrupt `model.keras` (not a zip archive), a `model.json` that is not the card, a Lambda layer
that safe mode refuses. A class from a plugin that is not installed names the package to install.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from automl.custom_objects import import_keras_objects, keras_imports, plugins_to_install
from automl.errors import ArtifactError, StudyError


def read_card(path: Path) -> dict[str, Any]:
    """The parsed `model.json`; a corrupt or foreign file is an `ArtifactError` naming it."""
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ArtifactError(
            f"{path}: expected the JSON that `automl export` writes, but line {exc.lineno} "
            f"column {exc.colno}: {exc.msg}. Export the model again"
        ) from None
    except UnicodeDecodeError:
        raise ArtifactError(f"{path}: expected UTF-8 JSON, got binary data") from None
    missing = [k for k in ("task", "input_shape") if not isinstance(card, dict) or k not in card]
    if missing:
        raise ArtifactError(
            f"{path}: expected the card `automl export` writes, with {' and '.join(missing)}. "
            f"Received: {type(card).__name__} without them"
        )
    return card


_MISSING_CLASS = re.compile(r"registered_name'?:\s*'([\w.]+)>([\w.]+)'")


def load_keras_model(
    path: str | Path, card: dict[str, Any] | None = None, packages: Iterable[str] = ()
) -> Any:
    """Load a `.keras` file in safe mode, importing the modules of its custom classes first.

    A missing plugin class names the package to install; a file Keras cannot read is an
    `ArtifactError` naming it.

    Args:
        path: the `.keras` file.
        card: the parsed `model.json`, whose `plugins` entry names the distributions to install
            and whose `keras_imports` names the modules to import. Defaults to `None`.
        packages: the top-level packages of the loaded plugins, whose modules the file and the
            card's `keras_imports` may name. Defaults to `()` (the built-ins' only).
    """
    import keras  # lazily: reading a card must not import TensorFlow

    if not zipfile.is_zipfile(path):
        raise ArtifactError(
            f"{path}: expected a .keras file (a zip archive), got a file that is not one "
            f"({Path(path).stat().st_size} bytes): truncated or corrupt. Export the model again"
        )
    try:
        recorded = keras_imports(path)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        recorded = []  # no readable config: Keras says what is wrong below
    import_keras_objects([*(card or {}).get("keras_imports", []), *recorded], packages, card)
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (TypeError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        text = str(exc)
        if "Could not locate" not in text and "registered_name" not in text:
            raise ArtifactError(_unloadable(path, text)) from None
        match = _MISSING_CLASS.search(text)
        what = (
            f"the custom Keras object package {match.group(1)!r}"
            if match
            else "a custom Keras object"
        )
        hint = plugins_to_install(card)
        raise StudyError(
            f"{path} uses {what} that is not registered here: install the plugin that provides it"
            + (f" ({hint})" if hint else "")
            + " and make sure it is not disabled (AUTOML_DISABLE_PLUGINS, AUTOML_NO_ENTRY_POINTS)."
        ) from exc


def _unloadable(path: str | Path, text: str) -> str:
    """Why Keras could not load `path`, in one paragraph."""
    if "Lambda" in text and "safe_mode" in text:
        return (
            f"{path} holds a Lambda layer (Python code), which Keras safe mode refuses to load: "
            "`automl export` never writes one, so the file was changed or made elsewhere. Load "
            "it with keras.saving.load_model(path, safe_mode=False) only if you trust its source"
        )
    first = text.strip().splitlines()[0] if text.strip() else "unknown reason"
    return f"{path}: Keras cannot load this model: {first}. Export the model again"


__all__ = ["load_keras_model", "read_card"]
