"""`automl.custom_objects`: which modules a saved model needs, importing them, loading it."""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import pytest

from automl.custom_objects import import_keras_objects, keras_imports
from automl.errors import StudyError
from automl_plugins.keras_objects import FocalCrossentropy, Impute


def _save(path: Path, custom: bool) -> Path:
    inputs = keras.Input((3,))
    hidden = Impute([0.0, 1.0, 2.0])(inputs) if custom else keras.layers.Rescaling(0.5)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    model.compile(loss=FocalCrossentropy() if custom else "sparse_categorical_crossentropy")
    model.save(path)
    return path


def test_the_modules_registering_a_model_s_classes_are_read_from_the_file(tmp_path: Path) -> None:
    assert keras_imports(_save(tmp_path / "custom.keras", True)) == ["automl_plugins.keras_objects"]
    assert keras_imports(_save(tmp_path / "plain.keras", False)) == []


def test_a_card_cannot_make_automl_import_a_module_no_plugin_provides() -> None:
    assert "wave" not in sys.modules  # a standard-library module nothing here imports
    import_keras_objects(["wave"], packages=["automl_resmlp"])
    assert "wave" not in sys.modules
    with pytest.raises(StudyError, match=r"needs the Python module 'automl_resmlp.gone'.*install"):
        import_keras_objects(["automl_resmlp.gone"], packages=["automl_resmlp"])
