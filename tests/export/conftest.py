"""Two small studies tuned once per session: a digits CNN on one hold-out split (min_max
preprocessing inside the model) and a cross-validated digits MLP (3 folds, 3 trials, every
trial's fold models kept).

The tests under tests/export/ export them in several ways; `exported_all` is the hold-out
study's best trial in every format, written once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from study_util import tune_space

from automl.data import load_splits
from automl.export import export_model
from automl.spec import open_space

SPACE = """
study:
  name: export-digits
  metric: accuracy
  trials: 2
  sampler: {random: {}}
  pruner: none
  seed: 0
data:
  source: {sklearn: {name: digits}}
  folds: 1
  validation: 0.2
  test: 0.2
training:
  epochs: 2
  batch_size: 32
preprocessors: [min_max]
model:
  cnn: {blocks: 1, filters: 8, kernel_size: 3, pooling: max, dense_units: 32, dropout: 0.0}
loss: crossentropy
optimizer:
  sgd: {learning_rate: {low: 0.01, high: 0.02, log: true}, momentum: 0.9}
"""


CV_SPACE = """
study:
  name: export-cv
  metric: accuracy
  trials: 3
  sampler: {random: {}}
  pruner: none
  seed: 0
data:
  source: {sklearn: {name: digits, images: false}}
  folds: 3
  test: 0.2
training:
  epochs: 2
  batch_size: 32
preprocessors: [min_max]
model:
  mlp: {layers: 1, units: {low: 8, high: 64, log: true}, dropout: 0.0}
optimizer:
  adam: {learning_rate: {low: 0.001, high: 0.01, log: true}}
"""


def _tune(root: Path, text: str) -> Path:
    """Tune the space `text` under `root` (its runs/ beside it); every trial must complete."""
    space, result = tune_space(root, text)
    assert all(r["state"] == "complete" for r in result.leaderboard)
    return space


@pytest.fixture(scope="session")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tuned two-trial hold-out study; the space file (its runs/ lives beside it)."""
    return _tune(tmp_path_factory.mktemp("export"), SPACE)


@pytest.fixture(scope="session")
def tuned_cv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tuned three-trial, three-fold study; the space file (its runs/ lives beside it)."""
    return _tune(tmp_path_factory.mktemp("export-cv"), CV_SPACE)


@pytest.fixture
def cv_space(tuned_cv: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cross-validated space, with AUTOML_RUNS_DIR pointing at its study."""
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tuned_cv.parent / "runs"))
    return tuned_cv


@pytest.fixture
def space(tuned: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tuned space, with AUTOML_RUNS_DIR pointing at its study."""
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tuned.parent / "runs"))
    return tuned


@pytest.fixture(scope="session")
def exported_all(tuned: Path) -> Path:
    """The best trial exported in every format (once per session)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(tuned.parent / "runs"))
        return export_model(str(tuned), tuned.parent / "all", formats="all")


@pytest.fixture(scope="session")
def test_rows(tuned: Path) -> tuple[np.ndarray, np.ndarray]:
    """The study's test split: float32 inputs and class indices."""
    spec, catalog = open_space(str(tuned))
    splits = load_splits(spec, catalog)
    return splits.x_test.astype("float32"), splits.y_test


@pytest.fixture
def keras_predictions() -> Callable[[Path, np.ndarray], np.ndarray]:
    """`predict(directory, x)`: the exported `model.keras`, loaded by Keras itself, on `x`."""

    def predict(directory: Path, x: np.ndarray) -> np.ndarray:
        import keras

        model = keras.saving.load_model(directory / "model.keras", safe_mode=True)
        return np.asarray(model.predict(x, verbose=0))

    return predict


@pytest.fixture(scope="session")
def test_rows_cv(tuned_cv: Path) -> tuple[np.ndarray, np.ndarray]:
    """The cross-validated study's test split: float32 inputs and class indices."""
    spec, catalog = open_space(str(tuned_cv))
    splits = load_splits(spec, catalog)
    return splits.x_test.astype("float32"), splits.y_test
