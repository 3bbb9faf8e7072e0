"""Find the plugins, build the plugin manager and the component registries.

Plugins come from three places, registered in this order:

1. built-ins: the modules in `DEFAULT_PLUGINS`, through the same `@hookimpl`s as everyone else;
2. installed packages: the entry point group `automl` (`[project.entry-points.automl]`);
3. local plugins: `.py` files or module names given with `--plugin` or a YAML `plugins:` list.

Each entry point is loaded on its own: one that fails to import (or raises while registering its
components) is reported with its distribution, the error and how to disable it, and the others
load. A `@hookimpl` whose name matches no hook is an error (pluggy's `check_pending`), and so is a
component name that two plugins register (the message names both).

Environment switches:
    AUTOML_DISABLE_PLUGINS=name1,name2   block these plugins (entry point, distribution or
                                         module names) with pluggy's `set_blocked`; they are
                                         not imported, and `automl plugins` lists them as BLOCKED.
    AUTOML_NO_ENTRY_POINTS=1             load no installed third-party plugins at all.

Private modules: `_info` (PluginInfo, switches), `_discovery` (the plugin manager),
`_catalog` (Catalog, registries, `load_catalog`).
"""

from __future__ import annotations

from automl.plugins._catalog import Catalog, build_registries, load_catalog
from automl.plugins._discovery import (
    check_hooks,
    get_plugin_manager,
    import_plugin,
    register_plugin,
)
from automl.plugins._info import (
    BUILT_IN,
    DEFAULT_PLUGINS,
    DISABLE_ENV,
    ENTRY_POINT,
    ENTRY_POINT_GROUP,
    KERAS_OBJECTS_MODULE,
    LOCAL,
    NO_ENTRY_POINTS_ENV,
    PluginInfo,
    disabled_plugins,
    entry_points_enabled,
    info_of,
)

__all__ = [
    "BUILT_IN",
    "DEFAULT_PLUGINS",
    "DISABLE_ENV",
    "ENTRY_POINT",
    "ENTRY_POINT_GROUP",
    "KERAS_OBJECTS_MODULE",
    "LOCAL",
    "NO_ENTRY_POINTS_ENV",
    "Catalog",
    "PluginInfo",
    "build_registries",
    "check_hooks",
    "disabled_plugins",
    "entry_points_enabled",
    "get_plugin_manager",
    "import_plugin",
    "info_of",
    "load_catalog",
    "register_plugin",
]
