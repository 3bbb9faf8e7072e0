"""The built-in automl plugins, installed as the `automl_plugins` package.

Each module registers one component kind through the same `@hookimpl` hooks third-party
plugins use; `automl.plugins.DEFAULT_PLUGINS` lists them.
"""
