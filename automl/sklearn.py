"""scikit-learn estimators that tune a Keras model in `fit`: `AutoClassifier`, `AutoRegressor`.

`fit(X, y)` runs a study on the rows it is given (`automl.tune(space, x=X, y=y)`: a random
validation split, or folds, of X; no test split, since scoring is the caller's), then keeps the
best trial's Keras model, preprocessing inside, retrained on all of X by default (like
`GridSearchCV(refit=True)`). So the estimators work in `cross_val_score`, `GridSearchCV` and a
`Pipeline`; `clone` gives an unfitted copy with the same parameters.

The study lives in a temporary runs folder, removed after `fit`, unless `directory` is given:
then it stays there (`automl trials/report/export <directory>/<study>/space.yaml`) and fitting
the same data again resumes it instead of starting over.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from automl.arrays import InMemoryData, data_space
from automl.custom_objects import plugin_packages
from automl.errors import AutoMLError, DataError
from automl.model_files import load_keras_model
from automl.plugins import load_catalog
from automl.result import TuneResult
from automl.storage import RUNS_DIR_ENV
from automl.study import tune
from automl.trial import predict_output

#: the space of `space=None`: standardized inputs into an MLP whose depth, width, dropout and
#: learning rate are searched (the `mlp` family's and `adam`'s default ranges)
DEFAULT_SPACE: dict[str, Any] = {
    "training": {"epochs": 30, "early_stopping": {"patience": 5}},
    "preprocessors": ["standardize"],
    "model": {"mlp": {}},
    "optimizer": {"adam": {}},
}


class _AutoEstimator(BaseEstimator):
    """What the classifier and the regressor share: the search in `fit`, the model's state.

    Args:
        space: a search space (a YAML path or a dict) without `data.source`. Defaults to `None`:
            `DEFAULT_SPACE`.
        trials: the trial budget. Defaults to `10`.
        timeout: seconds for the search. Defaults to `None`: `study.timeout`, else no limit.
        refit: train the best configuration again on all of X for its best epoch count.
            Defaults to `True`; `False` keeps the trial's own model (trained on X less its
            validation rows).
        directory: the runs folder to keep the study in. Defaults to `None`: a temporary one.
        random_state: the study's seed (data split, sampler, weights), over `study.seed`.
            Defaults to `0`; `None` keeps the space's.
        verbose: 0 quiet, 1 a progress bar over trials, 2 also Keras' epoch lines. Defaults
            to `0`.
    """

    def __init__(
        self,
        space: str | Path | Mapping[str, Any] | None = None,
        *,
        trials: int = 10,
        timeout: float | None = None,
        refit: bool = True,
        directory: str | Path | None = None,
        random_state: int | None = 0,
        verbose: int = 0,
    ) -> None:
        self.space = space
        self.trials = trials
        self.timeout = timeout
        self.refit = refit
        self.directory = directory
        self.random_state = random_state
        self.verbose = verbose

    def _search(self, x: np.ndarray, y: np.ndarray, task: str) -> None:
        """Run the study on (x, y) and keep the best model and what describes the search."""
        if len(x) < 2:
            raise DataError(
                f"a study needs at least 2 samples in X (training and validation rows), "
                f"got {len(x)} sample"
            )
        overrides: dict[str, dict[str, Any]] = {"data": {"task": task, "test": 0.0}}
        if self.random_state is not None:
            overrides["study"] = {"seed": int(self.random_state)}
        space = DEFAULT_SPACE if self.space is None else self.space
        with _runs_dir(self.directory):
            path = data_space(space, InMemoryData(x=x, y=y), overrides=overrides)
            result = tune(
                path,
                trials=self.trials,
                timeout=self.timeout,
                progress=self.verbose > 0,
                verbose=max(0, self.verbose - 1),
            )
            best = result.best_trial  # read while the study's storage is there
            if best is None:
                raise AutoMLError(_no_trial_message(result))
            self.model_ = result.best_model(retrain=self.refit)
        self.best_params_ = dict(best.params)
        self.best_score_ = float(best.value)  # type: ignore[arg-type]
        self.leaderboard_ = result.leaderboard
        self.study_name_ = result.spec.study.name
        self.task_ = task
        self.plugins_ = result.spec.plugins

    def _output(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        x = validate_data(self, X, reset=False, dtype="numeric")
        return predict_output(self.model_, x, self.task_)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the Keras model as the bytes of its `.keras` file (plugins' classes inside)."""
        state = dict(self.__dict__)
        model = state.pop("model_", None)
        if model is not None:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "model.keras"
                model.save(path)
                state["_model_bytes"] = path.read_bytes()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        data = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if data is not None:
            packages = plugin_packages(load_catalog(state.get("plugins_", ())))
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "model.keras"
                path.write_bytes(data)
                self.model_ = load_keras_model(path, None, packages)


class AutoClassifier(ClassifierMixin, _AutoEstimator):
    """A classifier that tunes a Keras model on `fit` (see `_AutoEstimator` for the arguments).

    Attributes (after `fit`): `classes_`, `model_` (the Keras model), `best_params_`,
    `best_score_` (validation metric of the best trial), `leaderboard_`, `n_features_in_`.
    """

    def fit(self, X: Any, y: Any) -> AutoClassifier:
        """Tune on (X, y); the classes are `np.unique(y)`."""
        x, y = validate_data(self, X, y, dtype="numeric")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise DataError(
                f"a classifier needs at least 2 classes in y, got 1 class: {self.classes_}"
            )
        task = "binary" if len(self.classes_) == 2 else "multiclass"
        # class i of the study is classes_[i]: the labels are given as their indices
        self._search(x, np.searchsorted(self.classes_, y), task)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, classes), columns in `classes_` order."""
        return self._output(X)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        probabilities = self._output(X)
        return self.classes_[probabilities.argmax(axis=1)]


class AutoRegressor(RegressorMixin, _AutoEstimator):
    """A regressor that tunes a Keras model on `fit` (see `_AutoEstimator` for the arguments).

    Attributes (after `fit`): `model_` (the Keras model), `best_params_`, `best_score_`
    (validation metric of the best trial), `leaderboard_`, `n_features_in_`.
    """

    def fit(self, X: Any, y: Any) -> AutoRegressor:
        """Tune on (X, y)."""
        x, y = validate_data(self, X, y, dtype="numeric", y_numeric=True)
        self._search(x, np.asarray(y, dtype="float64"), "regression")
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted value of each row, shape (n,)."""
        return self._output(X)


@contextlib.contextmanager
def _runs_dir(directory: str | Path | None) -> Iterator[None]:
    """`$AUTOML_RUNS_DIR` set to `directory`, or to a temporary folder removed afterwards (the
    worker processes of `--jobs` and `isolation: process` inherit it)."""
    before = os.environ.get(RUNS_DIR_ENV)
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="automl-"))
        os.environ[RUNS_DIR_ENV] = str(directory)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(RUNS_DIR_ENV, None)
            else:
                os.environ[RUNS_DIR_ENV] = before


def _no_trial_message(result: TuneResult) -> str:
    reasons = [f"trial {r['trial']}: {r['reason']}" for r in result.leaderboard if r["reason"]]
    shown = "; ".join(reasons[:3]) or "the time ran out before the first trial finished"
    return f"no trial of study {result.spec.study.name!r} finished: {shown}"


__all__ = ["DEFAULT_SPACE", "AutoClassifier", "AutoRegressor"]
