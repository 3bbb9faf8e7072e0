"""Where a plugin comes from (`PluginInfo`) and the environment switches that turn plugins off."""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field

from automl.errors import PluginError

ENTRY_POINT_GROUP = "automl"
DISABLE_ENV = "AUTOML_DISABLE_PLUGINS"
NO_ENTRY_POINTS_ENV = "AUTOML_NO_ENTRY_POINTS"
DEFAULT_PLUGINS: tuple[str, ...] = (
    "automl_plugins.data_sources",
    "automl_plugins.timeseries",
    "automl_plugins.preprocessors",
    "automl_plugins.models",
    "automl_plugins.pretrained",
    "automl_plugins.activations",
    "automl_plugins.losses",
    "automl_plugins.regularizers",
    "automl_plugins.optimizers",
    "automl_plugins.metrics",
    "automl_plugins.text",
    "automl_plugins.text_models",
)
# the module that registers the built-ins' custom Keras classes (focal loss, CSV text layers, ...):
# imported before a saved model loads; the built-ins import it only when they build a component,
# so that `automl validate` and `automl space` never import Keras
KERAS_OBJECTS_MODULE = "automl_plugins.keras_objects"

BUILT_IN, ENTRY_POINT, LOCAL = "built-in", "entry point", "local"


@dataclass
class PluginInfo:
    """Where a plugin came from, for `automl plugins`, error messages and `model.json`.

    Args:
        name: the name the plugin is registered under (entry point name, module name or file name).
        source: "built-in", "entry point" or "local".
        distribution: the installed distribution that provides it. Defaults to `None`.
        version: the distribution's version. Defaults to `None`.
        location: the entry point value, module file or `.py` path. Defaults to `None`.
        error: why it failed to load; `None` when it loaded.
        hooks: the hooks it implements.
        blocked: switched off by `AUTOML_DISABLE_PLUGINS` (never imported). Defaults to `False`.
    """

    name: str
    source: str
    distribution: str | None = None
    version: str | None = None
    location: str | None = None
    error: str | None = None
    hooks: list[str] = field(default_factory=list)
    blocked: bool = False

    def describe(self) -> str:
        """`plugin 'resmlp' (entry point of automl-resmlp 0.1.0)`, for messages."""
        where = self.source
        if self.distribution:
            where += f" of {self.distribution}" + (f" {self.version}" if self.version else "")
        elif self.location and self.source == LOCAL:
            where += f" {self.location}"
        return f"plugin {self.name!r} ({where})"

    def mark_broken(self, why: str, hint: bool = True) -> None:
        """Record why the plugin failed to load (with how to disable it) and warn."""
        where = f" from distribution {self.distribution!r}" if self.distribution else ""
        self.error = f"plugin {self.name!r}{where} {why}" if hint else why
        if hint:
            self.error += f". {self.disable_hint()}"
        warnings.warn(self.error, RuntimeWarning, stacklevel=4)

    def disable_hint(self) -> str:
        """How to switch this plugin off."""
        if self.source == ENTRY_POINT:
            hint = (
                f"Disable it with {DISABLE_ENV}={self.name} "
                f"(or {NO_ENTRY_POINTS_ENV}=1 to skip all installed plugins)"
            )
            if self.distribution:
                return f"{hint}, or uninstall it with `pip uninstall {self.distribution}`."
            return f"{hint}."
        if self.source == LOCAL:
            return "Fix the file or drop it from --plugin / the YAML `plugins:` list."
        return f"Disable it with {DISABLE_ENV}={self.name}."


def info_of(infos: dict[str, PluginInfo], name: str) -> PluginInfo:
    """The recorded info of plugin `name`, or a local one for a plugin registered by hand."""
    return infos.get(name) or PluginInfo(name, LOCAL)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def disabled_plugins() -> set[str]:
    """The names in `AUTOML_DISABLE_PLUGINS`, normalized (`-`, `_` and `.` compare equal)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return {_normalize(name.strip()) for name in raw.split(",") if name.strip()}


def is_disabled(disabled: set[str], *names: str | None) -> bool:
    return any(name is not None and _normalize(name) in disabled for name in names)


def entry_points_enabled() -> bool:
    """False when `AUTOML_NO_ENTRY_POINTS` is set to anything but empty, 0, false or no."""
    value = os.environ.get(NO_ENTRY_POINTS_ENV, "").strip().lower()
    return value in ("", "0", "false", "no")


def reason(exc: BaseException) -> str:
    """`ValueError: boom`; a `PluginError` a plugin raised on purpose is shown as its message."""
    return str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"
