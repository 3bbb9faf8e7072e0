"""`AutoClassifier`, `AutoRegressor`: real studies in `fit`, scikit-learn's checks and tools."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl.errors import DataError
from automl.sklearn import AutoClassifier, AutoRegressor

#: small and fast: one fixed MLP, a few epochs (the checks fit it hundreds of times)
SPACE: dict[str, Any] = {
    "study": {"pruner": "none"},
    "data": {"folds": 1},  # one validation split per trial, whatever the default becomes
    "training": {"epochs": 10, "early_stopping": False},
    "preprocessors": ["standardize"],
    "model": {"mlp": {"layers": 1, "units": 16, "dropout": 0.0}},
    "optimizer": {"adam": {"learning_rate": 0.05}},
}
X, Y = load_iris(return_X_y=True)
LABELS = np.array(["setosa", "versicolor", "virginica"])[Y]

#: checks that fail by design, and why (scikit-learn's `expected_failed_checks`): none. All pass
#: but two that scikit-learn skips itself (array API input, without SCIPY_ARRAY_API set).
EXPECTED_FAILURES: dict[str, str] = {}
#: checks that fit models (3 to 55 s each here): the whole set fits about 150 (13 minutes on 2
#: busy cores), so by default only the others run (in about a second; the tests above fit, pickle
#: and count features); `AUTOML_ALL_ESTIMATOR_CHECKS=1` runs them all
EXPENSIVE_CHECKS = {
    "check_classifier_data_not_an_array",
    "check_classifiers_classes",
    "check_classifiers_train",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
    "check_regressor_data_not_an_array",
    "check_regressors_int",
    "check_regressors_no_decision_function",
    "check_regressors_train",
    "check_supervised_y_2d",
}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> AutoClassifier:
    """A classifier fitted on iris with string labels (one trial, retrained on all rows)."""
    return AutoClassifier(SPACE, trials=1).fit(X, LABELS)


def test_classifier_predicts_its_classes_and_scores_with_scikit_learn(
    fitted: AutoClassifier,
) -> None:
    np.testing.assert_array_equal(fitted.classes_, ["setosa", "versicolor", "virginica"])
    proba = fitted.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    predicted = fitted.predict(X)
    np.testing.assert_array_equal(predicted, fitted.classes_[proba.argmax(axis=1)])
    assert fitted.score(X, LABELS) == accuracy_score(LABELS, predicted)
    assert fitted.score(X, LABELS) > 0.8  # labels mapped to the right columns: it learned
    assert fitted.n_features_in_ == 4
    assert [row["state"] for row in fitted.leaderboard_] == ["complete"]
    assert fitted.best_score_ == fitted.leaderboard_[0]["score"]


def test_pickled_classifier_predicts_the_same(fitted: AutoClassifier) -> None:
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    assert again.get_params() == fitted.get_params()


def test_params_clone_and_set_params() -> None:
    estimator = AutoRegressor(SPACE, trials=3, timeout=60.0, random_state=4)
    assert estimator.get_params() == {
        "space": SPACE,
        "trials": 3,
        "timeout": 60.0,
        "refit": True,
        "directory": None,
        "random_state": 4,
        "verbose": 0,
    }
    copy = clone(estimator).set_params(trials=5)
    assert (copy.trials, estimator.trials) == (5, 3)


def test_one_class_and_unfitted_use_are_refused() -> None:
    with pytest.raises(DataError, match=r"at least 2 classes in y, got 1 class: \['a'\]"):
        AutoClassifier(SPACE, trials=1).fit(X[:5], ["a"] * 5)
    with pytest.raises(ValueError, match=r"Input X contains NaN"):
        AutoClassifier(SPACE, trials=1).fit(np.full((5, 2), np.nan), [0, 1, 0, 1, 0])


@pytest.mark.slow
def test_regressor_scores_with_r2(tmp_path: Path) -> None:
    x, y = load_diabetes(return_X_y=True)
    regressor = AutoRegressor(SPACE, trials=1, refit=False).fit(x, y)
    predicted = regressor.predict(x)
    assert predicted.shape == (len(x),)
    assert regressor.score(x, y) == pytest.approx(r2_score(y, predicted))
    assert regressor.score(x, y) > 0.0  # better than the mean: it learned


@pytest.mark.slow
def test_cross_val_score_in_a_pipeline_equals_fitting_each_fold() -> None:
    pipeline = make_pipeline(StandardScaler(), AutoClassifier(SPACE, trials=1, refit=False))
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    scores = cross_val_score(pipeline, X, Y, cv=folds)
    by_hand = [
        clone(pipeline).fit(X[train], Y[train]).score(X[test], Y[test])
        for train, test in folds.split(X, Y)
    ]
    np.testing.assert_allclose(scores, by_hand)
    assert min(scores) > 0.7


@pytest.mark.slow
def test_a_directory_keeps_the_study_and_fitting_again_resumes(tmp_path: Path) -> None:
    first = AutoClassifier(SPACE, trials=1, refit=False, directory=tmp_path).fit(X, Y)
    folder = tmp_path / first.study_name_
    assert (folder / "journal.log").is_file()
    assert (folder / "space.yaml").is_file()
    again = AutoClassifier(SPACE, trials=1, refit=False, directory=tmp_path).fit(X, Y)
    assert again.study_name_ == first.study_name_
    assert len(again.leaderboard_) == 1  # the budget was spent: no new trial
    np.testing.assert_allclose(again.predict_proba(X), first.predict_proba(X), rtol=1e-6)


def _expected_failures(estimator: Any) -> dict[str, str]:
    return EXPECTED_FAILURES


@parametrize_with_checks(
    [AutoClassifier(SPACE, trials=1, refit=False), AutoRegressor(SPACE, trials=1, refit=False)],
    expected_failed_checks=_expected_failures,
)
def test_scikit_learn_estimator_checks(estimator: Any, check: Any) -> None:
    name = getattr(check, "func", check).__name__
    if name in EXPENSIVE_CHECKS and not os.environ.get("AUTOML_ALL_ESTIMATOR_CHECKS"):
        pytest.skip("it fits models: AUTOML_ALL_ESTIMATOR_CHECKS=1 runs it")
    check(estimator)
