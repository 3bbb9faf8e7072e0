"""Build the plugin manager and the component registries.

Plugins come from three places, registered in this order:

1. built-ins: the modules in `DEFAULT_PLUGINS`, through the same `@hookimpl`s as everyone else;
2. installed packages: the entry point group `automl` (`[project.entry-points.automl]`);
3. local plugins: `.py` files or module names given with `--plugin` or a YAML `plugins:` list.

Each entry point is loaded on its own: one that fails to import (or raises while registering its
components) is reported with its distribution, the error and how to disable it, and the others
load. A `@hookimpl` whose name matches no hook is an error, and so is a component name that two
plugins register (the message names both).

Environment switches:
    AUTOML_DISABLE_PLUGINS=name1,name2   skip these plugins (entry point, distribution or
                                         module names).
    AUTOML_NO_ENTRY_POINTS=1             load no installed third-party plugins at all.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import pluggy

from automl import hookspecs
from automl.components import KINDS, Component
from automl.errors import PluginError, TrialFailed
from automl.registry import KIND_TITLES, Registry

ENTRY_POINT_GROUP = "automl"
DISABLE_ENV = "AUTOML_DISABLE_PLUGINS"
NO_ENTRY_POINTS_ENV = "AUTOML_NO_ENTRY_POINTS"
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
    """

    name: str
    source: str
    distribution: str | None = None
    version: str | None = None
    location: str | None = None
    error: str | None = None
    hooks: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """`plugin 'resmlp' (entry point of automl-resmlp 0.1.0)`, for messages."""
        where = self.source
        if self.distribution:
            where += f" of {self.distribution}" + (f" {self.version}" if self.version else "")
        elif self.location and self.source == LOCAL:
            where += f" {self.location}"
        return f"plugin {self.name!r} ({where})"

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

    def components_of(self, plugin: str) -> list[Component]:
        """Every component `plugin` registered, by kind then name."""
        return [
            registry.get(name)
            for registry in self.registries.values()
            for name in registry.names()
            if registry.owner(name) == plugin
        ]

    def info_for(self, kind: str, name: str) -> PluginInfo | None:
        """The plugin behind component `name` of `kind`."""
        return self.plugins.get(self.registries[kind].owner(name))

    def plugin_in_traceback(self, tb: TracebackType | None) -> str | None:
        """The plugin whose code raised: the innermost traceback frame in a plugin's package.

        Built-ins count by module, other plugins by top-level package (so a third-party
        plugin's Keras classes in a sibling module are its own). None when no plugin code ran.
        """
        prefixes: dict[str, str] = {}
        for name, info in self.plugins.items():
            module = getattr(self.pm.get_plugin(name), "__name__", None)
            if isinstance(module, str):
                prefixes[module if info.source == BUILT_IN else module.split(".")[0]] = name
        found = None
        while tb is not None:
            module = str(tb.tb_frame.f_globals.get("__name__", ""))
            for prefix, name in prefixes.items():
                if module == prefix or module.startswith(prefix + "."):
                    found = name
            tb = tb.tb_next
        return found

    @contextlib.contextmanager
    def blame(self, kind: str, name: str) -> Iterator[Component]:
        """Yield component `name`; any exception it raises becomes `TrialFailed` naming its plugin.

        A pruned trial (any exception named `TrialPruned`) and Ctrl-C pass through unchanged.
        """
        component = self.registries[kind].get(name)
        try:
            yield component
        except (TrialFailed, KeyboardInterrupt):
            raise
        except Exception as exc:
            if type(exc).__name__ == "TrialPruned":
                raise
            owner = self.registries[kind].owner(name)
            culprit = self.plugin_in_traceback(exc.__traceback__)  # e.g. a loss raising in fit
            what = f"{KIND_TITLES[kind]} {name!r}"
            if culprit is not None and culprit != owner:
                raise TrialFailed(
                    f"plugin {culprit!r} raised {type(exc).__name__}: {exc} (inside the "
                    f"{what} of plugin {owner!r})"
                ) from exc
            raise TrialFailed(
                f"{what} (plugin {owner!r}) raised {type(exc).__name__}: {exc}"
            ) from exc

    @property
    def hooks(self) -> LifecycleHooks:
        """The lifecycle hooks, called so that an exception names the plugin that raised it."""
        return LifecycleHooks(self.pm, self.plugins)


#: Lifecycle hooks called while a trial runs: an exception in one fails that trial.
IN_TRIAL_HOOKS = ("on_trial_start", "on_epoch_end")


class LifecycleHooks:
    """Calls a lifecycle hook one plugin at a time, so that a plugin's bug is reported as its own.

    `hooks.on_trial_end(trial=t)` calls every implementation (last registered first, like
    pluggy). An exception in `on_trial_start` or `on_epoch_end` becomes `TrialFailed` naming the
    plugin: that trial fails and the study goes on. An exception in the other lifecycle hooks is
    a `RuntimeWarning` naming the plugin; the other plugins' hooks still run.
    """

    def __init__(self, pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> None:
        self._pm, self._infos = pm, infos

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in hookspecs.REGISTRATION_HOOKS or not _is_hookspec(name):
            raise AttributeError(name)
        caller = getattr(self._pm.hook, name)

        def call(**kwargs: Any) -> None:
            from automl.errors import TrialFailed

            impls = caller.get_hookimpls()
            if any(impl.hookwrapper or impl.wrapper for impl in impls):
                calls = [(None, lambda: caller(**kwargs))]  # wrappers need pluggy's call loop
            else:
                calls = [
                    (impl.plugin_name, _bind(impl.function, impl.argnames, kwargs))
                    for impl in reversed(impls)
                ]
            for owner, function in calls:
                try:
                    function()
                except (TrialFailed, KeyboardInterrupt):
                    raise
                except Exception as exc:
                    if type(exc).__name__ == "TrialPruned":
                        raise
                    who = "a plugin"
                    if owner is not None:
                        who = (self._infos.get(owner) or PluginInfo(owner, LOCAL)).describe()
                    message = f"{who} raised in {name}: {type(exc).__name__}: {exc}"
                    if name in IN_TRIAL_HOOKS:
                        raise TrialFailed(message) from exc
                    warnings.warn(message, RuntimeWarning, stacklevel=2)

        return call


def _bind(function: Any, argnames: tuple[str, ...], kwargs: dict[str, Any]) -> Any:
    return lambda: function(**{arg: kwargs[arg] for arg in argnames})


# ------------------------------------------------------------------------------------ switches
def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def disabled_plugins() -> set[str]:
    """The names in `AUTOML_DISABLE_PLUGINS`, normalized (`-`, `_` and `.` compare equal)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return {_normalize(name.strip()) for name in raw.split(",") if name.strip()}


def _is_disabled(disabled: set[str], *names: str | None) -> bool:
    return any(name is not None and _normalize(name) in disabled for name in names)


def entry_points_enabled() -> bool:
    """False when `AUTOML_NO_ENTRY_POINTS` is set to anything but empty, 0, false or no."""
    value = os.environ.get(NO_ENTRY_POINTS_ENV, "").strip().lower()
    return value in ("", "0", "false", "no")


# ------------------------------------------------------------------------------------- loading
def _import_local(spec: str) -> tuple[ModuleType, str, str]:
    """Import a plugin given as a `.py` path or a module name; return it, its name and location."""
    path = Path(spec)
    if spec.endswith(".py") or os.sep in spec or "/" in spec:
        if not path.is_file():
            raise PluginError(
                f"plugin file not found: {spec}. Expected a .py file or an importable module."
            )
        resolved = path.resolve()
        module_name = "automl_local_plugin_" + re.sub(r"\W", "_", str(resolved))
        module = sys.modules.get(module_name)
        if module is None:  # import each file once per process (Keras registrations, module state)
            module_spec = importlib.util.spec_from_file_location(module_name, resolved)
            if module_spec is None or module_spec.loader is None:
                raise PluginError(f"cannot import plugin file {spec}: not a Python module")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            try:
                module_spec.loader.exec_module(module)
            except Exception as exc:
                del sys.modules[module_name]
                raise PluginError(
                    f"plugin file {spec} failed to import: {type(exc).__name__}: {exc}"
                ) from exc
        return module, path.name, str(resolved)
    try:
        module = importlib.import_module(spec)
    except Exception as exc:
        hint = ""
        if isinstance(exc, ImportError):
            hint = " Expected a .py file or an importable module name."
        raise PluginError(
            f"plugin module {spec!r} failed to import: {type(exc).__name__}: {exc}.{hint}"
        ) from exc
    return module, spec, getattr(module, "__file__", None) or spec


def _check_arguments(plugin: object, info: PluginInfo) -> None:
    """A known hook implemented with arguments the hook does not provide is an error."""
    for attr in dir(plugin):
        function = getattr(plugin, attr, None)
        if not hasattr(function, f"{hookspecs.PROJECT}_impl") or not _is_hookspec(attr):
            continue
        allowed = list(inspect.signature(getattr(hookspecs, attr)).parameters)
        got = [a for a in inspect.signature(function).parameters if a != "self"]  # type: ignore[arg-type]
        extra = [a for a in got if a not in allowed]
        if extra:
            raise PluginError(
                f"{info.describe()} has an invalid @hookimpl {attr}({', '.join(got)}): "
                f"argument(s) {', '.join(extra)} are not provided by the hook "
                f"{attr}({', '.join(allowed)}). {info.disable_hint()}"
            )


def _register(pm: pluggy.PluginManager, plugin: object, info: PluginInfo) -> None:
    """Register one plugin object; hookimpls with wrong argument names fail here."""
    _check_arguments(plugin, info)
    try:
        pm.register(plugin, name=info.name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(
            f"{info.describe()} has an invalid @hookimpl: {exc}. {info.disable_hint()}"
        ) from exc


def _load_entry_points(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> None:
    disabled = disabled_plugins()
    seen: set[str] = set()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else None
        if ep.name in seen or _is_disabled(disabled, ep.name, dist):
            continue  # the same distribution can be visible twice on sys.path
        seen.add(ep.name)
        version = ep.dist.version if ep.dist else None
        info = PluginInfo(ep.name, ENTRY_POINT, dist, version, ep.value)
        if ep.name in infos:
            warnings.warn(
                f"entry point {ep.name!r} of distribution {dist!r} is skipped: its name is taken "
                f"by {infos[ep.name].describe()}. Rename the entry point.",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            infos[ep.name] = info
            _mark_broken(info, f"failed to import: {type(exc).__name__}: {exc}")
            continue
        if pm.is_registered(plugin):  # e.g. an entry point pointing at a built-in module
            continue
        infos[ep.name] = info
        try:
            _register(pm, plugin, info)
        except PluginError as exc:
            _mark_broken(info, str(exc), hint=False)


def _mark_broken(info: PluginInfo, why: str, hint: bool = True) -> None:
    where = f" from distribution {info.distribution!r}" if info.distribution else ""
    info.error = f"plugin {info.name!r}{where} {why}" if hint else why
    if hint:
        info.error += f". {info.disable_hint()}"
    warnings.warn(info.error, RuntimeWarning, stacklevel=3)


def _check_hooks(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> None:
    """Every @hookimpl must name an automl hook: a misspelled name would silently never run."""
    known = sorted(name for name in dir(hookspecs) if _is_hookspec(name))
    problems = []
    for name, caller in vars(pm.hook).items():
        if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            info = infos.get(impl.plugin_name) or PluginInfo(impl.plugin_name, LOCAL)
            hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            did = f"; did you mean {hint[0]!r}?" if hint else "."
            problems.append(
                f"{info.describe()} has a @hookimpl {name!r} that matches no automl hook{did} "
                f"{info.disable_hint()}"
            )
    if problems:
        raise PluginError("\n".join(problems) + f"\nHooks: {', '.join(known)}")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:  # pragma: no cover - _check_hooks found these
        raise PluginError(f"{exc} (a @hookimpl whose name matches no automl hook)") from exc


def _is_hookspec(name: str) -> bool:
    return hasattr(getattr(hookspecs, name, None), f"{hookspecs.PROJECT}_spec")


def hook_names() -> list[str]:
    """Every hook in `automl.hookspecs`, in file order."""
    return [name for name in vars(hookspecs) if _is_hookspec(name)]


def get_plugin_manager(
    local_plugins: Iterable[str] = (), entry_points: bool | None = None
) -> tuple[pluggy.PluginManager, dict[str, PluginInfo]]:
    """A fresh plugin manager with built-ins, installed entry points and `local_plugins`.

    Args:
        local_plugins: `.py` paths or importable module names (the `--plugin` option).
        entry_points: load installed third-party plugins. Defaults to `None`, meaning yes unless
            `AUTOML_NO_ENTRY_POINTS` is set.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    disabled = disabled_plugins()
    version = _own_version()
    for module_name in DEFAULT_PLUGINS:
        if _is_disabled(disabled, module_name):
            continue
        module = importlib.import_module(module_name)
        info = PluginInfo(module_name, BUILT_IN, "automl-keras", version, module.__file__)
        infos[module_name] = info
        _register(pm, module, info)
    if entry_points is None:
        entry_points = entry_points_enabled()
    if entry_points:
        _load_entry_points(pm, infos)
    for spec in local_plugins:
        module, name, location = _import_local(spec)
        if pm.is_registered(module) or _is_disabled(disabled, name):
            continue
        if pm.get_plugin(name) is not None:
            name = location
        info = PluginInfo(name, LOCAL, location=location)
        infos[name] = info
        _register(pm, module, info)
    _check_hooks(pm, infos)
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


# ---------------------------------------------------------------------------------- registries
def build_registries(
    pm: pluggy.PluginManager, infos: dict[str, PluginInfo] | None = None
) -> dict[str, Registry[Any]]:
    """Call every registration hook, one plugin at a time, so each component knows its owner.

    An installed (entry point) plugin whose registration hook raises is reported as broken,
    unregistered and skipped; a built-in or local one stops the run with a `PluginError`.
    """
    infos = infos if infos is not None else {}
    collected: dict[str, list[tuple[str, Component]]] = {}
    failed: set[str] = set()
    for hook_name, kind in hookspecs.REGISTRATION_HOOKS.items():
        hook = getattr(pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order (pluggy calls them LIFO)
            owner = impl.plugin_name
            if owner in failed:
                continue
            info = infos.get(owner) or PluginInfo(owner, LOCAL)
            items: list[tuple[str, Component]] = []

            def register(
                component: Component,
                _kind: str = kind,
                _info: PluginInfo = info,
                _items: list[tuple[str, Component]] = items,
            ) -> None:
                base = KINDS[_kind]
                if not isinstance(component, base):
                    raise PluginError(
                        f"{_info.describe()} registered {component!r} as a {KIND_TITLES[_kind]}, "
                        f"but it is not an instance of {base.__name__}"
                    )
                _items.append((_kind, component))

            try:
                impl.function(**{arg: register for arg in impl.argnames})
            except Exception as exc:
                why = str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"
                message = f"{info.describe()} failed in {hook_name}: {why}"
                if info.source != ENTRY_POINT:
                    raise PluginError(f"{message}. {info.disable_hint()}") from exc
                failed.add(owner)
                _mark_broken(info, f"failed in {hook_name}: {why}")
                continue
            collected.setdefault(owner, []).extend(items)
    for owner in failed:
        collected.pop(owner, None)
        pm.unregister(name=owner)
        if owner in infos:
            infos[owner].hooks = []
    registries: dict[str, Registry[Any]] = {
        kind: Registry(kind) for kind in hookspecs.REGISTRATION_HOOKS.values()
    }
    for owner, items in collected.items():
        for kind, component in items:
            try:
                registries[kind].register(component, owner)
            except PluginError as exc:
                raise PluginError(_with_sources(str(exc), infos)) from None
    return registries


def _with_sources(message: str, infos: dict[str, PluginInfo]) -> str:
    """Append where each plugin named in `message` comes from."""
    named = [info for name, info in infos.items() if f"{name!r}" in message]
    if not named:
        return message
    return message + " (" + "; ".join(i.describe() for i in named) + ")"


def load_catalog(local_plugins: Iterable[str] = (), entry_points: bool | None = None) -> Catalog:
    """The plugin manager and registries for one run. Never built at import time.

    Args:
        local_plugins: `.py` paths or module names to load besides the installed plugins.
        entry_points: load installed third-party plugins. Defaults to `None`, meaning yes unless
            `AUTOML_NO_ENTRY_POINTS` is set.
    """
    pm, infos = get_plugin_manager(local_plugins, entry_points)
    registries = build_registries(pm, infos)
    return Catalog(pm, registries, infos)


# --------------------------------------------------------------------------------- description
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
    """Every plugin, broken ones too, with its origin, hooks and components (`automl plugins`)."""
    return [
        {**asdict(info), "components": [describe_component(c) for c in catalog.components_of(name)]}
        for name, info in catalog.plugins.items()
    ]


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


def format_plugins(rows: list[dict[str, Any]]) -> str:
    """The text of `automl plugins`: one block per plugin, one line per component parameter."""
    lines: list[str] = []
    for row in rows:
        origin = row["source"]
        if row["distribution"]:
            origin += f", {row['distribution']} {row['version'] or ''}".rstrip()
        lines.append(f"{row['name']}  [{origin}]  {row['location'] or ''}".rstrip())
        if row["error"]:
            lines.append(f"  FAILED: {row['error']}")
            continue
        if row["hooks"]:
            lines.append(f"  hooks: {', '.join(row['hooks'])}")
        for comp in row["components"]:
            extra = f", {comp['direction']}" if comp.get("direction") else ""
            tasks = "" if len(comp["tasks"]) == 3 else f" ({', '.join(comp['tasks'])}{extra})"
            if not tasks and extra:
                tasks = f" ({comp['direction']})"
            lines.append(f"  {KIND_TITLES[comp['kind']]} {comp['name']}{tasks}: {comp['help']}")
            width = max((len(p["name"]) for p in comp["params"]), default=0)
            for p in comp["params"]:
                lines.append(
                    f"      {p['name'].ljust(width)}  {p['type']:<11} default {p['default']!r:<8} "
                    f" {_range_text(p)}"
                )
    return "\n".join(lines)
