"""Build the plugin manager and the component registries.

Built-ins (`DEFAULT_PLUGINS`) are registered through the same `@hookimpl`s as third-party
packages, which are found through the entry point group `automl`. Each entry point is loaded on its
own: a broken one is reported with its distribution and how to disable it, and the others load.

Environment switches:
    AUTOML_DISABLE_PLUGINS=name1,name2   skip these plugins (entry point or module names).
    AUTOML_NO_ENTRY_POINTS=1             load no installed third-party plugins at all.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from automl import hookspecs
from automl.components import Component
from automl.errors import PluginError
from automl.registry import Registry

ENTRY_POINT_GROUP = "automl"
DEFAULT_PLUGINS: tuple[str, ...] = (
    "automl_plugins.data_sources",
    "automl_plugins.preprocessors",
    "automl_plugins.models",
    "automl_plugins.activations",
    "automl_plugins.losses",
    "automl_plugins.regularizers",
    "automl_plugins.optimizers",
    "automl_plugins.metrics",
)


@dataclass
class PluginInfo:
    """Where a plugin came from, for `automl plugins` and error messages."""

    name: str
    source: str  # "built-in", "entry point", "local"
    distribution: str | None = None
    version: str | None = None
    location: str | None = None
    error: str | None = None


@dataclass
class Catalog:
    """The plugin manager plus one registry per component kind."""

    pm: pluggy.PluginManager
    registries: dict[str, Registry[Any]]
    plugins: dict[str, PluginInfo] = field(default_factory=dict)

    def __getitem__(self, kind: str) -> Registry[Any]:
        return self.registries[kind]

    def broken(self) -> list[PluginInfo]:
        """Plugins that failed to load."""
        return [p for p in self.plugins.values() if p.error]


def _disabled() -> set[str]:
    raw = os.environ.get("AUTOML_DISABLE_PLUGINS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def _import_local(spec: str) -> ModuleType:
    """Import a plugin given as a `.py` path or a module name."""
    path = Path(spec)
    if spec.endswith(".py") or path.exists():
        if not path.is_file():
            raise PluginError(f"plugin file not found: {spec}")
        module_name = f"automl_local_plugin_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise PluginError(f"cannot import plugin file {spec}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise PluginError(f"plugin file {spec} failed to import: {exc!r}") from exc
        return module
    try:
        return importlib.import_module(spec)
    except Exception as exc:
        raise PluginError(f"plugin module {spec!r} failed to import: {exc!r}") from exc


def _load_entry_points(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> None:
    disabled = _disabled()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in disabled or pm.get_plugin(ep.name) is not None:
            continue
        dist = ep.dist.name if ep.dist else None
        version = ep.dist.version if ep.dist else None
        info = PluginInfo(ep.name, "entry point", dist, version, ep.value)
        infos[ep.name] = info
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:
            info.error = (
                f"plugin {ep.name!r} from distribution {dist!r} failed to load: {exc!r}. "
                f"Disable it with AUTOML_DISABLE_PLUGINS={ep.name} "
                f"(or AUTOML_NO_ENTRY_POINTS=1 to skip all installed plugins), "
                f"or uninstall it with `pip uninstall {dist}`."
            )
            warnings.warn(info.error, RuntimeWarning, stacklevel=2)


def get_plugin_manager(
    local_plugins: Iterable[str] = (), entry_points: bool | None = None
) -> tuple[pluggy.PluginManager, dict[str, PluginInfo]]:
    """A fresh plugin manager with built-ins, installed entry points and `local_plugins`.

    Args:
        local_plugins: `.py` paths or importable module names (the `--plugin` option).
        entry_points: load installed third-party plugins. Defaults to `None`, meaning yes unless
            AUTOML_NO_ENTRY_POINTS is set.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    disabled = _disabled()
    for module_name in DEFAULT_PLUGINS:
        if module_name in disabled:
            continue
        module = importlib.import_module(module_name)
        pm.register(module, name=module_name)
        infos[module_name] = PluginInfo(module_name, "built-in", location=module.__file__)
    if entry_points is None:
        entry_points = not os.environ.get("AUTOML_NO_ENTRY_POINTS")
    if entry_points:
        _load_entry_points(pm, infos)
    for spec in local_plugins:
        module = _import_local(spec)
        name = getattr(module, "__name__", spec)
        if pm.get_plugin(name) is None and name not in disabled:
            pm.register(module, name=name)
            infos[name] = PluginInfo(name, "local", location=getattr(module, "__file__", spec))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"{exc} (a @hookimpl whose name matches no automl hook)") from exc
    return pm, infos


def build_registries(pm: pluggy.PluginManager) -> dict[str, Registry[Any]]:
    """Call every registration hook, one plugin at a time, so each component knows its owner."""
    registries: dict[str, Registry[Any]] = {}
    for hook_name, kind in hookspecs.REGISTRATION_HOOKS.items():
        registry: Registry[Any] = Registry(kind)
        hook = getattr(pm.hook, hook_name)
        for impl in reversed(hook.get_hookimpls()):  # registration order
            owner = impl.plugin_name

            def register(component: Component, _owner: str = owner) -> None:
                registry.register(component, _owner)

            try:
                impl.function(**{arg: register for arg in impl.argnames})
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(f"plugin {owner!r} failed in {hook_name}: {exc!r}") from exc
        registries[kind] = registry
    return registries


def load_catalog(local_plugins: Iterable[str] = (), entry_points: bool | None = None) -> Catalog:
    """The plugin manager and registries for one run. Never built at import time."""
    pm, infos = get_plugin_manager(local_plugins, entry_points)
    return Catalog(pm, build_registries(pm), infos)
