"""`automl_plugins.keras_objects`: the one module with the built-ins' Keras classes.

The built-in plugin modules import Keras only when they build, so discovering them (what
`automl validate` does) loads neither Keras nor TensorFlow; their custom classes are all in
`keras_objects`, registered under the package `automl`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras

import automl_plugins.keras_objects as keras_objects

HEAVY_IMPORTS = """
import json, sys
from automl.plugins import load_catalog
catalog = load_catalog()
assert len(catalog["loss"]) > 0
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"keras", "tensorflow"})))
"""


def test_discovering_the_built_in_plugins_imports_neither_keras_nor_tensorflow() -> None:
    env = {**os.environ, "AUTOML_NO_ENTRY_POINTS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", HEAVY_IMPORTS], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(done.stdout) == []


def test_every_class_of_the_module_is_registered_under_automl() -> None:
    defined = {
        name
        for name, value in vars(keras_objects).items()
        if isinstance(value, type) and value.__module__ == keras_objects.__name__
    }
    assert defined == {
        "SparseCategoricalCrossentropyLS",
        "FocalCrossentropy",
        "HuberWithDelta",
        "Impute",
        "EncodeColumns",
        "LinearProjection",
    }
    for name in defined:
        assert keras.saving.get_registered_object(f"automl>{name}") is getattr(keras_objects, name)
