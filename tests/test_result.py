"""`TuneResult`: the best model one call away, the export, the leaderboard as a DataFrame."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.metrics import accuracy_score

import automl
from automl.data import load_partition
from automl.errors import AutoMLError, StudyError
from automl.result import Leaderboard, TuneResult
from automl.storage import checkpoint_path

SPACE = {
    "study": {"name": "result", "sampler": "random"},
    "data": {"test": 0.2, "folds": 1},
    "training": {"epochs": 2},
    "preprocessors": ["standardize"],
    "model": {"mlp": {"layers": 1, "units": {"low": 4, "high": 32}}},
}
X, Y = load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[TuneResult, Path]:
    """Two trials on iris, in a runs folder of this module (tests point $AUTOML_RUNS_DIR at it)."""
    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTOML_RUNS_DIR", str(runs))
        return automl.tune(SPACE, x=X, y=Y, trials=2, progress=False), runs


@pytest.fixture
def result(tuned: tuple[TuneResult, Path], monkeypatch: pytest.MonkeyPatch) -> TuneResult:
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tuned[1]))
    return tuned[0]


def _checkpoint(result: TuneResult, number: int) -> keras.Model:
    return keras.saving.load_model(checkpoint_path(result.spec, number))


def test_best_model_is_the_best_checkpoint_with_preprocessing_inside(result: TuneResult) -> None:
    best = result.best_trial
    assert best is not None
    assert best.number == result.leaderboard[0]["trial"]
    model = result.best_model()
    reference = _checkpoint(result, best.number)
    np.testing.assert_allclose(model.predict(X, verbose=0), reference.predict(X, verbose=0))
    # raw rows in (the standardize layer is inside): its accuracy on the study's validation rows,
    # by scikit-learn, is the trial's recorded score
    split = load_partition(result.spec, result.catalog).fold(0)
    predicted = model.predict(split.x_val, verbose=0).argmax(axis=1)
    assert accuracy_score(split.y_val, predicted) == pytest.approx(best.value)


def test_best_model_of_another_trial_and_of_no_trial(result: TuneResult) -> None:
    other = result.leaderboard[-1]["trial"]
    model = result.best_model(trial=other)
    reference = _checkpoint(result, other)
    np.testing.assert_allclose(model.predict(X, verbose=0), reference.predict(X, verbose=0))
    with pytest.raises(StudyError, match=r"study 'result' has no trial 9: expected .* 0 to 1"):
        result.best_model(trial=9)


def test_export_writes_the_artifact_of_the_best_trial(result: TuneResult, tmp_path: Path) -> None:
    out = result.export(tmp_path / "best")
    card = json.loads((out / "model.json").read_text())
    assert card["trial"] == result.best_trial.number  # type: ignore[union-attr]
    assert card["validation_score"] == pytest.approx(result.best_trial.value)  # type: ignore[union-attr]
    loaded = automl.load(out)
    np.testing.assert_allclose(
        loaded.predict_proba(X), result.best_model().predict(X, verbose=0), rtol=1e-5
    )
    with pytest.raises(StudyError, match=r"already exists: pass --force"):
        result.export(out)


def test_leaderboard_to_pandas_has_a_row_per_trial_and_a_column_per_parameter(
    result: TuneResult,
) -> None:
    frame = result.leaderboard.to_pandas()
    assert list(frame["trial"]) == [row["trial"] for row in result.leaderboard]
    assert list(frame["score"]) == [row["score"] for row in result.leaderboard]
    name = "model.mlp.units"
    assert list(frame[name]) == [row["params"][name] for row in result.leaderboard]
    assert "params" not in frame.columns
    assert repr(result) == (
        f"TuneResult(study='result', trials=2, best accuracy="
        f"{result.best_trial.value:.4g} (trial {result.best_trial.number}))"  # type: ignore[union-attr]
    )


def test_to_pandas_without_pandas_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(AutoMLError, match=r"needs pandas: pip install pandas"):
        Leaderboard([{"trial": 0, "params": {}}]).to_pandas()
