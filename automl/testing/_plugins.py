"""Checks on a plugin as a whole: its hooks exist, and the components it registers."""

from __future__ import annotations

from typing import Any

from automl.components import Component
from automl.hookspecs import REGISTRATION_HOOKS
from automl.plugins import (
    LOCAL,
    PluginInfo,
    check_hooks,
    get_plugin_manager,
    import_plugin,
    register_plugin,
)


def _plugin_object(plugin: object | str) -> object:
    """`plugin` itself, or the module a module name or `.py` path names."""
    if isinstance(plugin, str):
        return import_plugin(plugin)[0]
    return plugin


def check_plugin_hooks(plugin: object | str) -> list[str]:
    """Register `plugin` on a fresh plugin manager; raise if a `@hookimpl` matches no hook.

    Args:
        plugin: a module, an object with `@hookimpl` methods, a module name or a `.py` path.

    Returns:
        The names of the hooks it implements.
    """
    pm, infos = get_plugin_manager(entry_points=False)
    obj = _plugin_object(plugin)
    if not pm.is_registered(obj):
        name = getattr(obj, "__name__", None) or type(obj).__name__
        infos[name] = PluginInfo(name, LOCAL)
        register_plugin(pm, obj, infos[name])
    check_hooks(pm, infos)
    return sorted(caller.name for caller in pm.get_hookcallers(obj) or [])


def collect_components(plugin: object | str) -> list[Component]:
    """Every component `plugin` registers, by calling its registration hooks directly.

    Args:
        plugin: a module, an object with `@hookimpl` methods, a module name or a `.py` path.
    """
    obj = _plugin_object(plugin)
    found: list[Component] = []
    for hook_name in REGISTRATION_HOOKS:
        function = getattr(obj, hook_name, None)
        if function is not None and callable(function):
            function(register=found.append)
    return found


def parametrize_components(plugin: object | str, argname: str = "component") -> Any:
    """A `pytest.mark.parametrize` over the components of `plugin`, with `kind:name` ids."""
    import pytest  # only plugin test suites call this; pytest is not a dependency of automl

    components = collect_components(plugin)
    return pytest.mark.parametrize(
        argname, components, ids=[f"{c.kind}:{c.name}" for c in components]
    )
