"""The catalog of one run: the plugin manager and one registry per component kind, with owners."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pluggy

from automl import hookspecs
from automl.components import KINDS, Component
from automl.errors import DataError, PluginError, StorageError, TrialFailed
from automl.plugins._discovery import get_plugin_manager
from automl.plugins._info import BUILT_IN, ENTRY_POINT, PluginInfo, info_of, reason
from automl.registry import KIND_TITLES, Registry


@dataclass
class Catalog:
    """The plugin manager plus one registry per component kind.

    Args:
        pm: the pluggy plugin manager (blocked plugins are blocked there too).
        registries: one registry per component kind.
        plugins: the plugins that loaded or failed to load, by name.
        blocked: the plugins switched off by `AUTOML_DISABLE_PLUGINS`, by name.
    """

    pm: pluggy.PluginManager
    registries: dict[str, Registry[Any]]
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    blocked: dict[str, PluginInfo] = field(default_factory=dict)

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
    def blame(self, kind: str, name: str) -> Iterator[Any]:
        """Yield component `name`; any exception it raises becomes `TrialFailed` naming its plugin.

        A pruned trial (any exception named `TrialPruned`), Ctrl-C, a `DataError` (a data
        source's own message about its data) and a `StorageError` (the study's storage failed
        while the component ran: no fault of the plugin) pass through unchanged.
        """
        component = self.registries[kind].get(name)
        try:
            yield component
        except (TrialFailed, DataError, StorageError, KeyboardInterrupt):
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


# ---------------------------------------------------------------------------------- registries
class _Register:
    """The `register` callable one plugin's registration hook receives: it keeps what it gets."""

    def __init__(self, kind: str, info: PluginInfo) -> None:
        self.kind, self.info = kind, info
        self.components: list[Component] = []

    def __call__(self, component: Component) -> None:
        base = KINDS[self.kind]
        if not isinstance(component, base):
            raise PluginError(
                f"{self.info.describe()} registered {component!r} as a "
                f"{KIND_TITLES[self.kind]}, but it is not an instance of {base.__name__}"
            )
        self.components.append(component)


def _collect(
    pm: pluggy.PluginManager, infos: dict[str, PluginInfo]
) -> dict[str, list[tuple[str, Component]]]:
    """Call every registration hook one plugin at a time; {owner: [(kind, component)]}.

    A plain call through `pm.hook` could not tell which plugin registered what. A broken entry
    point is marked, unregistered and left out whole; a built-in or local one raises.
    """
    collected: dict[str, list[tuple[str, Component]]] = {}
    failed: set[str] = set()
    for hook_name, kind in hookspecs.REGISTRATION_HOOKS.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():  # registration order
            info = info_of(infos, impl.plugin_name)
            if impl.plugin_name in failed or impl.hookwrapper or impl.wrapper:
                continue  # (a wrapper around registration has nothing to register)
            register = _Register(kind, info)
            try:
                impl.function(**{arg: register for arg in impl.argnames})
            except Exception as exc:
                message = f"{info.describe()} failed in {hook_name}: {reason(exc)}"
                if info.source != ENTRY_POINT:
                    raise PluginError(f"{message}. {info.disable_hint()}") from exc
                failed.add(impl.plugin_name)
                info.mark_broken(f"failed in {hook_name}: {reason(exc)}")
                continue
            collected.setdefault(impl.plugin_name, []).extend(
                (kind, c) for c in register.components
            )
    for owner in failed:
        collected.pop(owner, None)
        pm.unregister(name=owner)
        infos[owner].hooks = []
    return collected


def build_registries(
    pm: pluggy.PluginManager, infos: dict[str, PluginInfo] | None = None
) -> dict[str, Registry[Any]]:
    """One registry per kind, filled by every registration hook, each component with its owner.

    An installed (entry point) plugin whose registration hook raises is reported as broken,
    unregistered and skipped; a built-in or local one stops the run with a `PluginError`.
    """
    infos = infos if infos is not None else {}
    registries: dict[str, Registry[Any]] = {
        kind: Registry(kind) for kind in hookspecs.REGISTRATION_HOOKS.values()
    }
    for owner, items in _collect(pm, infos).items():
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
    plugins = {name: info for name, info in infos.items() if not info.blocked}
    blocked = {name: info for name, info in infos.items() if info.blocked}
    return Catalog(pm, registries, plugins, blocked)
