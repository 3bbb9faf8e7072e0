"""Contract checks for automl components: the same checks the built-in components pass.

Run them over your plugin's components in your own test suite::

    # tests/test_contract.py of your plugin package
    import my_automl_plugin
    from automl.testing import check_component, check_plugin_hooks, parametrize_components

    def test_hooks():
        check_plugin_hooks(my_automl_plugin)        # every @hookimpl names a real hook

    @parametrize_components(my_automl_plugin)
    def test_contract(component):
        check_component(component)

`check_component` checks the declaration (name, help, tasks, parameters and their default ranges)
and then builds the component with its defaults and with the low and high ends of every default
range, on tiny random data: models and layers must give finite outputs of the right shape, losses
and metrics finite numbers that prefer perfect predictions, and every Keras object must survive a
save and reload (custom classes must be registered with
`keras.saving.register_keras_serializable(package=...)`). A failed check raises
`ContractError` (an `AssertionError`, so pytest shows it as a test failure) saying what was
expected and what was received.

The private modules hold one kind of check each: `_declaration` (the static part), `_layers`
(model families, preprocessors, activations), `_scores` (losses, metrics), `_training`
(regularizers, optimizers), `_data` (data sources), `_plugins` (hooks and collecting
components); `_check` runs the right ones for a component.
"""

from __future__ import annotations

from automl.errors import ContractError
from automl.testing._check import check_component, param_sets
from automl.testing._declaration import check_declaration
from automl.testing._plugins import check_plugin_hooks, collect_components, parametrize_components

__all__ = [
    "ContractError",
    "check_component",
    "check_declaration",
    "check_plugin_hooks",
    "collect_components",
    "param_sets",
    "parametrize_components",
]
