"""Discovery: a fresh pluggy manager with the built-ins, the entry points and the local plugins."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import pluggy

from automl import hookspecs
from automl.errors import PluginError
from automl.plugins._info import (
    BUILT_IN,
    DEFAULT_PLUGINS,
    ENTRY_POINT,
    ENTRY_POINT_GROUP,
    LOCAL,
    PluginInfo,
    disabled_plugins,
    entry_points_enabled,
    info_of,
    is_disabled,
    reason,
)
from automl.registry import did_you_mean


def _block(pm: pluggy.PluginManager, infos: dict[str, PluginInfo], info: PluginInfo) -> None:
    """Record a plugin switched off by `AUTOML_DISABLE_PLUGINS`; pluggy refuses its name."""
    info.blocked = True
    infos[info.name] = info
    pm.set_blocked(info.name)


# ------------------------------------------------------------------------------- local plugins
def _is_path(spec: str) -> bool:
    return spec.endswith(".py") or os.sep in spec or "/" in spec


def _import_file(spec: str) -> ModuleType:
    """Import a `.py` file once per process (Keras registrations and module state stay single)."""
    resolved = Path(spec).resolve()
    module_name = "automl_local_plugin_" + re.sub(r"\W", "_", str(resolved))
    module = sys.modules.get(module_name)
    if module is not None:
        return module
    module_spec = importlib.util.spec_from_file_location(module_name, resolved)
    if module_spec is None or module_spec.loader is None:
        raise PluginError(f"cannot import plugin file {spec}: not a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise PluginError(f"plugin file {spec} failed to import: {reason(exc)}") from exc
    return module


def import_plugin(spec: str) -> tuple[ModuleType, str, str]:
    """Import a plugin given as a `.py` path or a module name; return it, its name and location."""
    if _is_path(spec):
        if not Path(spec).is_file():
            raise PluginError(
                f"plugin file not found: {spec}. Expected a .py file or an importable module."
            )
        return _import_file(spec), Path(spec).name, str(Path(spec).resolve())
    try:
        module = importlib.import_module(spec)
    except Exception as exc:
        hint = " Expected a .py file or an importable module name."
        hint = hint if isinstance(exc, ImportError) else ""
        raise PluginError(f"plugin module {spec!r} failed to import: {reason(exc)}.{hint}") from exc
    return module, spec, getattr(module, "__file__", None) or spec


def _load_locals(
    pm: pluggy.PluginManager,
    infos: dict[str, PluginInfo],
    disabled: set[str],
    specs: Iterable[str],
) -> None:
    for spec in specs:
        name = Path(spec).name if _is_path(spec) else spec
        if is_disabled(disabled, name):
            _block(pm, infos, PluginInfo(name, LOCAL, location=spec))
            continue
        module, name, location = import_plugin(spec)
        if pm.is_registered(module):
            continue
        if pm.has_plugin(name):
            name = location
        info = PluginInfo(name, LOCAL, location=location)
        infos[name] = info
        register_plugin(pm, module, info)


# --------------------------------------------------------------------------------- registering
def register_plugin(pm: pluggy.PluginManager, plugin: object, info: PluginInfo) -> None:
    """Register one plugin object under `info.name`; pluggy validates its hookimpls.

    A hookimpl with arguments its hook does not provide (or another invalid one) is a
    `PluginError` naming the plugin, the hookimpl and how to disable it.
    """
    try:
        pm.register(plugin, name=info.name)
    except pluggy.PluginValidationError as exc:
        if pm.is_registered(plugin):  # older pluggy registers hookimpls before a bad one
            pm.unregister(plugin)
        detail = _bad_arguments(pm, plugin)
        what = f"{info.describe()} has an invalid @hookimpl"
        what += f" {detail}" if detail else f": {exc}"
        raise PluginError(f"{what}. {info.disable_hint()}") from exc


def _bad_arguments(pm: pluggy.PluginManager, plugin: object) -> str | None:
    """What is wrong with a hookimpl's arguments, or None when pluggy refused it for another reason.

    e.g. `on_trial_end(trial, run): argument(s) run are not provided by the hook
    on_trial_end(trial)`.
    """
    for attr in dir(plugin):
        opts = pm.parse_hookimpl_opts(plugin, attr)
        caller = getattr(pm.hook, opts.get("specname") or attr, None) if opts else None
        if caller is None or caller.spec is None:
            continue
        params = inspect.signature(getattr(plugin, attr)).parameters.values()
        got = [p.name for p in params]
        extra = [
            p.name for p in params if p.default is p.empty and p.name not in caller.spec.argnames
        ]
        if extra:
            allowed = ", ".join(caller.spec.argnames)
            return (
                f"{attr}({', '.join(got)}): argument(s) {', '.join(extra)} are not provided by "
                f"the hook {caller.name}({allowed})"
            )
    return None


def check_hooks(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> None:
    """pluggy's `check_pending`: every `@hookimpl` must name an automl hook.

    A misspelled name would silently never run, so it is an error naming each such hookimpl, its
    plugin, the closest hook and how to disable the plugin.
    """
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(_unknown_hooks(pm, infos)) from exc


def _unknown_hooks(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> str:
    known = sorted(hookspecs.hook_names())
    problems = []
    for name, caller in vars(pm.hook).items():
        if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            info = info_of(infos, impl.plugin_name)
            did = did_you_mean(name, known)
            problems.append(
                f"{info.describe()} has a @hookimpl {name!r} that matches no automl hook{did} "
                f"{info.disable_hint()}"
            )
    return "\n".join(problems) + f"\nHooks: {', '.join(known)}"


# ---------------------------------------------------------------------------------- discovery
def _load_builtins(
    pm: pluggy.PluginManager, infos: dict[str, PluginInfo], disabled: set[str]
) -> None:
    version = _own_version()
    for module_name in DEFAULT_PLUGINS:
        info = PluginInfo(module_name, BUILT_IN, "automl-keras", version)
        if is_disabled(disabled, module_name):
            _block(pm, infos, info)
            continue
        module = importlib.import_module(module_name)
        info.location = module.__file__
        infos[module_name] = info
        register_plugin(pm, module, info)


def _load_entry_points(
    pm: pluggy.PluginManager, infos: dict[str, PluginInfo], disabled: set[str]
) -> None:
    seen: set[str] = set()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in seen:
            continue  # the same distribution can be visible twice on sys.path
        seen.add(ep.name)
        dist = ep.dist.name if ep.dist else None
        info = PluginInfo(
            ep.name, ENTRY_POINT, dist, ep.dist.version if ep.dist else None, ep.value
        )
        if ep.name in infos:
            warnings.warn(
                f"entry point {ep.name!r} of distribution {dist!r} is skipped: its name is taken "
                f"by {infos[ep.name].describe()}. Rename the entry point.",
                RuntimeWarning,
                stacklevel=3,
            )
        elif is_disabled(disabled, ep.name, dist):
            _block(pm, infos, info)
        else:
            _load_entry_point(pm, infos, ep, info)


def _load_entry_point(
    pm: pluggy.PluginManager,
    infos: dict[str, PluginInfo],
    ep: importlib.metadata.EntryPoint,
    info: PluginInfo,
) -> None:
    """Import and register one entry point; a failure marks it broken instead of raising."""
    try:
        plugin = ep.load()
    except Exception as exc:
        infos[ep.name] = info
        info.mark_broken(f"failed to import: {reason(exc)}")
        return
    if pm.is_registered(plugin):  # e.g. an entry point pointing at a built-in module
        return
    infos[ep.name] = info
    try:
        register_plugin(pm, plugin, info)
    except PluginError as exc:
        info.mark_broken(str(exc), hint=False)


def get_plugin_manager(
    local_plugins: Iterable[str] = (), entry_points: bool | None = None
) -> tuple[pluggy.PluginManager, dict[str, PluginInfo]]:
    """A fresh plugin manager with built-ins, installed entry points and `local_plugins`.

    Args:
        local_plugins: `.py` paths or importable module names (the `--plugin` option).
        entry_points: load installed third-party plugins. Defaults to `None`, meaning yes unless
            `AUTOML_NO_ENTRY_POINTS` is set.

    Returns:
        The manager and every plugin's info by name, blocked ones (`info.blocked`) included.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    disabled = disabled_plugins()
    _load_builtins(pm, infos, disabled)
    if entry_points_enabled() if entry_points is None else entry_points:
        _load_entry_points(pm, infos, disabled)
    _load_locals(pm, infos, disabled, local_plugins)
    check_hooks(pm, infos)
    for name, info in infos.items():
        plugin = pm.get_plugin(name)
        if plugin is not None:
            info.hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
    return pm, infos


def _own_version() -> str | None:
    try:
        return importlib.metadata.version("automl-keras")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
        return None
