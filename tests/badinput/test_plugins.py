"""Broken plugins: refused with exit status 3 and the plugin named (file, module or
distribution), the rest of automl untouched."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from badinput_util import Case, Outcome, check

from automl.errors import PluginError

PLUGIN = PluginError.exit_code
SPACE = """
study: {name: plug, trials: 1}
data: {source: {sklearn: {name: iris}}}
model: {mlp: {}}
"""
HEADER = "from automl import hookimpl\nfrom automl.components import BaseModelFamily\n"
FAMILY = """
class Tiny(BaseModelFamily):
    name = "{name}"
    help = "A family."

    def build(self, inputs, ctx, **params):
        return inputs
"""


def plugin_case(id: str, code: str, place: str, says: str, status: int = PLUGIN) -> Case:
    files = {"space.yaml": SPACE, "plug.py": code}
    return Case(id, ("validate", "space.yaml", "--plugin", "plug.py"), status, place, says, files)


CASES = [
    Case(
        "plugin_file_missing",
        ("validate", "space.yaml", "--plugin", "nope.py"),
        PLUGIN,
        "nope.py",
        r"plugin file not found",
        {"space.yaml": SPACE},
    ),
    Case(
        "plugin_module_missing",
        ("validate", "space.yaml", "--plugin", "no_such_module_xyz"),
        PLUGIN,
        "no_such_module_xyz",
        r"(cannot|could not|No module)",
        {"space.yaml": SPACE},
    ),
    plugin_case("plugin_syntax_error", "def broken(:\n", "plug.py", r"SyntaxError"),
    plugin_case(
        "plugin_raises_on_import", "raise RuntimeError('no config')\n", "plug.py", r"no config"
    ),
    plugin_case(
        "plugin_misspelled_hook",
        HEADER + "\n@hookimpl\ndef register_model_familys(register):\n    pass\n",
        "register_model_familys",
        r"(unknown hook|matches no hook|register_model_families)",
    ),
    plugin_case(
        "plugin_registers_a_taken_name",
        HEADER
        + FAMILY.format(name="mlp")
        + "\n@hookimpl\ndef register_model_families(register):\n    register(Tiny())\n",
        "'mlp'",
        r"automl_plugins.models",
    ),
    plugin_case(
        "plugin_registers_a_non_component",
        HEADER + "\n@hookimpl\ndef register_model_families(register):\n    register('mlp2')\n",
        "plug.py",
        r"not an instance of BaseModelFamily",
    ),
    plugin_case(
        "plugin_registration_raises",
        HEADER + "\n@hookimpl\ndef register_model_families(register):\n    1 / 0\n",
        "plug.py",
        r"ZeroDivisionError",
    ),
    Case(
        "yaml_plugins_list_missing_file",
        ("validate", "space.yaml"),
        PLUGIN,
        "gone.py",
        r"plugin file not found",
        {"space.yaml": SPACE + "plugins: [gone.py]\n"},
    ),
    Case(
        "disabled_builtin_leaves_its_components_unknown",
        ("validate", "space.yaml"),
        2,
        "model.mlp",
        r"unknown model family 'mlp'",
        {"space.yaml": SPACE},
        {"AUTOML_DISABLE_PLUGINS": "automl_plugins.models"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_broken_plugin_is_named(case: Case, run_automl: Callable[[Case], Outcome]) -> None:
    check(case, run_automl(case))
