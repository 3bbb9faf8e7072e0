"""The tuned scikit-learn baseline of `benchmarks/quality.py`: what a competent user tries.

Per family, `GridSearchCV` (5 folds, stratified for classification, scoring = the task's metric)
over `Pipeline(StandardScaler, model)`; the family with the best cross-validated score (never the
test score) is the baseline, refitted on the whole train split by GridSearchCV. Sequences are
flattened to (n, steps * features) and images to (n, pixels). ROC AUC is scored on
`predict_proba` where the model has it, else on `decision_function` (SVC: the same ranking that
GridSearchCV's `roc_auc` scorer uses).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from _quality_tasks import Split, Task
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

SCORING = {
    "accuracy": "accuracy",
    "roc_auc": "roc_auc",
    "f1": "f1",
    "rmse": "neg_root_mean_squared_error",
}


@dataclass
class BaselineResult:
    """The chosen family's test score and CV estimate, and every family's CV score."""

    family: str
    test: float
    estimate: float
    wall_s: float
    families: dict[str, dict[str, Any]] = field(default_factory=dict)


def candidates(task: Task, seed: int) -> dict[str, tuple[Any, dict[str, list[Any]]]]:
    """Family name -> (estimator, parameter grid), as a competent user would grid-search."""
    weight = "balanced" if task.imbalanced else None
    if task.task == "regression":

        def scaled_y(model: Any) -> Any:
            # SVR's epsilon and C assume a target of unit scale: standardise it as well
            pipe = Pipeline([("scale", StandardScaler()), ("model", model)])
            return TransformedTargetRegressor(regressor=pipe, transformer=StandardScaler())

        prefix = "regressor__model__"
        return {
            "ridge": (scaled_y(Ridge()), {prefix + "alpha": list(np.logspace(-3, 3, 13))}),
            "svr": (
                scaled_y(SVR()),
                {
                    prefix + "C": [0.1, 1.0, 10.0, 100.0],
                    prefix + "gamma": ["scale", 0.01, 0.1],
                    prefix + "epsilon": [0.1, 0.5],
                },
            ),
            "hist_gradient_boosting": (
                scaled_y(HistGradientBoostingRegressor(random_state=seed)),
                {
                    prefix + "learning_rate": [0.03, 0.1],
                    prefix + "max_leaf_nodes": [7, 15, 31],
                },
            ),
        }

    def pipe(model: Any) -> Pipeline:
        return Pipeline([("scale", StandardScaler()), ("model", model)])

    # no `probability=True` (deprecated in scikit-learn 1.9): ROC AUC ranks decision_function
    svc = SVC(class_weight=weight, random_state=seed)
    return {
        "svc": (
            pipe(svc),
            {"model__C": [0.1, 1.0, 10.0, 100.0], "model__gamma": ["scale", 0.001, 0.01, 0.1]},
        ),
        "logistic_regression": (
            pipe(LogisticRegression(max_iter=5000, class_weight=weight)),
            {"model__C": [0.01, 0.1, 1.0, 10.0, 100.0]},
        ),
        "hist_gradient_boosting": (
            pipe(HistGradientBoostingClassifier(class_weight=weight, random_state=seed)),
            {"model__learning_rate": [0.03, 0.1], "model__max_leaf_nodes": [7, 15, 31]},
        ),
    }


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def _predictions(model: Any, task: Task, x: np.ndarray) -> np.ndarray:
    """Labels or values; for ROC AUC a score that ranks class 1 (probability or decision)."""
    if task.metric.uses_proba:
        if hasattr(model, "predict_proba"):
            return model.predict_proba(x)[:, 1]
        return model.decision_function(x)
    return model.predict(x)


def run_sklearn(task: Task, split: Split, seed: int, folds: int = 5) -> BaselineResult:
    """Grid-search every family with `folds`-fold CV, keep the best by CV, score it on test."""
    started = time.perf_counter()
    x_train, x_test = _flat(split.x_train), _flat(split.x_test)
    cv: Any = (
        StratifiedKFold(folds, shuffle=True, random_state=seed)
        if task.classification
        else KFold(folds, shuffle=True, random_state=seed)
    )
    sign = 1.0 if task.metric.maximize else -1.0  # scikit-learn maximises neg_* scores
    searches: dict[str, GridSearchCV] = {}
    families: dict[str, dict[str, Any]] = {}
    for name, (estimator, grid) in candidates(task, seed).items():
        t0 = time.perf_counter()
        search = GridSearchCV(estimator, grid, scoring=SCORING[task.metric.name], cv=cv)
        search.fit(x_train, split.y_train)
        searches[name] = search
        families[name] = {
            "cv_score": sign * float(search.best_score_),
            "cv_std": float(search.cv_results_["std_test_score"][search.best_index_]),
            "best_params": {k: _plain(v) for k, v in search.best_params_.items()},
            "grid_size": len(search.cv_results_["params"]),
            "wall_s": time.perf_counter() - t0,
        }
    best = max(searches, key=lambda n: float(searches[n].best_score_))
    test = task.metric.score(split.y_test, _predictions(searches[best], task, x_test))
    families[best]["test"] = test
    return BaselineResult(
        family=best,
        test=test,
        estimate=families[best]["cv_score"],
        wall_s=time.perf_counter() - started,
        families=families,
    )


def _plain(value: Any) -> Any:
    """A NumPy scalar as a plain Python value, for JSON."""
    return value.item() if isinstance(value, np.generic) else value
