"""Every built-in metric against scikit-learn on the same predictions; directions; task fit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.data import Splits
from automl.errors import AutoMLError, SpecError
from automl.spec import load_spec

Reference = Callable[[np.ndarray, np.ndarray], float]


def _labels(p: np.ndarray) -> np.ndarray:
    return p.argmax(axis=1)


def _avg(fn: Callable[..., float], average: str) -> Reference:
    return lambda y, p: fn(y, _labels(p), average=average, zero_division=0)


CLASSIFICATION_REFERENCES: dict[str, Reference] = {
    "accuracy": lambda y, p: skm.accuracy_score(y, _labels(p)),
    "balanced_accuracy": lambda y, p: skm.balanced_accuracy_score(y, _labels(p)),
    "roc_auc": lambda y, p: (
        skm.roc_auc_score(y, p[:, 1])
        if p.shape[1] == 2
        else skm.roc_auc_score(y, p, multi_class="ovr")
    ),
    "log_loss": lambda y, p: skm.log_loss(y, p),
}
for _name, _fn in (
    ("precision", skm.precision_score),
    ("recall", skm.recall_score),
    ("f1", skm.f1_score),
):
    CLASSIFICATION_REFERENCES[_name] = _avg(_fn, "binary")
    for _average in ("macro", "micro", "weighted"):
        CLASSIFICATION_REFERENCES[f"{_name}_{_average}"] = _avg(_fn, _average)

REGRESSION_REFERENCES: dict[str, Reference] = {
    "mse": skm.mean_squared_error,
    "rmse": lambda y, p: float(np.sqrt(skm.mean_squared_error(y, p))),
    "mae": skm.mean_absolute_error,
    "r2": skm.r2_score,
    "mape": skm.mean_absolute_percentage_error,
}
FORECAST_ONLY = {"mase"}  # checked against its formula in test_mase_*
DIRECTIONS = {"log_loss": "minimize", "mse": "minimize", "rmse": "minimize", "mae": "minimize"}
DIRECTIONS.update(mape="minimize", mase="minimize")


def builtin_metrics(catalog: Any) -> list[str]:
    registry = catalog["metric"]
    return [n for n in registry.names() if registry.owner(n) == "automl_plugins.metrics"]


def predictions(task: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if task == "regression":
        y = rng.normal(size=60)
        return y, y + rng.normal(scale=0.5, size=60)
    k = 2 if task == "binary" else 4
    y = rng.integers(0, k, size=60)
    logits = rng.normal(size=(60, k)) + 1.5 * np.eye(k)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, p.astype("float32")


#: metrics of the model itself, checked against their own references in tests/test_measures.py
MEASURES = {"params", "size_mb", "latency_ms"}


def test_every_builtin_metric_has_a_reference(catalog: Any) -> None:
    references = set(CLASSIFICATION_REFERENCES) | set(REGRESSION_REFERENCES)
    assert set(builtin_metrics(catalog)) == references | FORECAST_ONLY | MEASURES


@pytest.mark.parametrize("name", sorted(CLASSIFICATION_REFERENCES))
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_classification_metric_matches_scikit_learn(catalog: Any, name: str, task: str) -> None:
    metric = catalog["metric"].get(name)
    if task not in metric.tasks:
        assert name in ("precision", "recall", "f1") and task == "multiclass"
        return
    for seed in range(3):
        y, p = predictions(task, seed)
        p64 = p.astype("float64")
        expected = float(CLASSIFICATION_REFERENCES[name](y, p64 / p64.sum(axis=1, keepdims=True)))
        assert metric.score(y, p) == pytest.approx(expected, rel=1e-5, abs=1e-7)
    assert metric.direction == DIRECTIONS.get(name, "maximize")


@pytest.mark.parametrize("name", sorted(REGRESSION_REFERENCES))
def test_regression_metric_matches_scikit_learn(catalog: Any, name: str) -> None:
    metric = catalog["metric"].get(name)
    assert metric.tasks == ("regression", "forecast")
    y, p = predictions("regression")
    assert metric.score(y, p) == pytest.approx(float(REGRESSION_REFERENCES[name](y, p)))
    assert metric.direction == DIRECTIONS.get(name, "maximize")
    # a forecast of 3 steps: every step counts, as scikit-learn's uniform average does
    y3, p3 = y.reshape(20, 3), p.reshape(20, 3)
    expected = float(REGRESSION_REFERENCES[name](y3.ravel(), p3.ravel()))
    assert metric.score(y3, p3) == pytest.approx(expected)


def forecast_splits(y_train: np.ndarray, stride: int, period: int) -> Splits:
    empty = np.zeros((0, 1))
    return Splits(
        np.zeros((len(y_train), 4, 1)), y_train, empty, empty, empty, empty, "forecast", None,
        schema={"stride": stride, "period": period},
    )  # fmt: skip


def test_mase_matches_its_formula(catalog: Any) -> None:
    """MAE / mean |y_t - y_(t-m)| over the training series (Hyndman & Koehler 2006), by hand."""
    mase = catalog["metric"].get("mase")
    assert (mase.direction, mase.tasks) == ("minimize", ("forecast",))
    # training series 1, 3, 2, 5, 4 as windows of horizon 1: naive errors 2, 1, 3, 1 -> 7/4
    fitted = mase.fitted(forecast_splits(np.array([[1.0], [3.0], [2.0], [5.0], [4.0]]), 1, 1))
    y_true, y_pred = np.array([[6.0], [7.0]]), np.array([[5.0], [9.0]])  # MAE (1 + 2) / 2
    assert fitted.score(y_true, y_pred) == pytest.approx(1.5 / 1.75)
    # the same series as overlapping windows of horizon 2, period 2: |2-1|, |5-3|, |4-2| -> 5/3
    windows = np.array([[1.0, 3.0], [3.0, 2.0], [2.0, 5.0], [5.0, 4.0]])
    fitted = mase.fitted(forecast_splits(windows, 1, 2))
    y_true, y_pred = np.array([[6.0, 7.0]]), np.array([[5.0, 9.0]])
    assert fitted.score(y_true, y_pred) == pytest.approx(1.5 / (5 / 3))
    # stride 2: the windows cover rows 0, 2, 4 (values 1, 2, 4): period 2 pairs |2-1|, |4-2|
    fitted = mase.fitted(forecast_splits(np.array([[1.0], [2.0], [4.0]]), 2, 2))
    assert fitted.score(np.array([[3.0]]), np.array([[0.0]])) == pytest.approx(3.0 / 1.5)


def test_mase_without_pairs_is_a_clear_error(catalog: Any) -> None:
    mase = catalog["metric"].get("mase")
    with pytest.raises(AutoMLError, match=r"MASE is undefined here: .* no two values 1 rows apart"):
        mase.fitted(forecast_splits(np.array([[1.0], [2.0], [4.0]]), 2, 1))
    with pytest.raises(AutoMLError, match=r"no two values 1 rows apart that differ \(4 pairs\)"):
        mase.fitted(forecast_splits(np.full((5, 1), 3.0), 1, 1))  # a constant series


def test_binary_f1_scores_the_positive_class(catalog: Any) -> None:
    y = np.array([0, 0, 0, 0, 1, 1])
    p = np.array([[0.9, 0.1]] * 3 + [[0.2, 0.8]] * 2 + [[0.7, 0.3]])  # tp=1, fp=1, fn=1
    assert catalog["metric"].get("f1").score(y, p) == pytest.approx(0.5)
    assert catalog["metric"].get("precision").score(y, p) == pytest.approx(0.5)
    assert catalog["metric"].get("recall").score(y, p) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("source", "metric", "task"),
    [
        ("iris", "r2", "multiclass"),
        ("iris", "f1", "multiclass"),
        ("diabetes", "accuracy", "regression"),
        ("diabetes", "roc_auc", "regression"),
        ("breast_cancer", "mae", "binary"),
    ],
)
def test_a_metric_that_does_not_fit_the_task_fails_validation(
    catalog: Any, source: str, metric: str, task: str
) -> None:
    data = {
        "study": {"metric": metric},
        "data": {"source": {"sklearn": {"name": source}}},
        "model": "mlp",
    }
    with pytest.raises(SpecError, match=f"metric '{metric}' does not fit a {task} task"):
        load_spec(data, catalog=catalog)


def test_csv_task_is_known_at_validation_time(catalog: Any, tmp_path: Any) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n1,x,2.5\n2,y,3.75\n3,x,0.125\n" + "4,y,9.5\n" * 40)
    data = {
        "study": {"metric": "f1_macro"},
        "data": {"source": {"csv": {"path": str(path)}}},
        "model": "mlp",
    }
    with pytest.raises(SpecError, match="metric 'f1_macro' does not fit a regression task"):
        load_spec(data, catalog=catalog)


# ---------------------------------------------------------------- a split missing a class
# Three classes, but the validation split holds only classes 0 and 1 (small data); the model
# still outputs three columns, some scores slightly negative (clipped before normalising).
Y_TWO_OF_THREE = np.array([0, 1, 0, 1, 1, 0])
P_THREE = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.2, 0.5, 0.3],
        [0.3, 0.4, 0.3],
        [0.1, 0.6, 0.3],
        [0.5, 0.1, 0.4],
        [0.6, -0.1, 0.5],
    ]
)


def _auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney: P(score of a positive > score of a negative), ties counting half."""
    pos, neg = scores[positive], scores[~positive]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def test_metrics_on_a_validation_split_missing_a_class(catalog: Any) -> None:
    registry, y = catalog["metric"], Y_TWO_OF_THREE
    clipped = np.clip(P_THREE, 0, None)
    proba = clipped / clipped.sum(axis=1, keepdims=True)
    predicted = P_THREE.argmax(axis=1)  # [0, 1, 1, 1, 0, 0]
    # macro F1 over all three classes: class 2 is neither true nor predicted, so it scores 0
    f1 = []
    for c in (0, 1, 2):
        tp = np.sum((predicted == c) & (y == c))
        fp = np.sum((predicted == c) & (y != c))
        fn = np.sum((predicted != c) & (y == c))
        f1.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    assert registry.get("f1_macro").score(y, P_THREE) == pytest.approx(np.mean(f1))
    log_loss = -np.mean(np.log(proba[np.arange(6), y]))
    assert registry.get("log_loss").score(y, P_THREE) == pytest.approx(log_loss)
    auc = np.mean([_auc(y == c, proba[:, c]) for c in (0, 1)])
    assert registry.get("roc_auc").score(y, P_THREE) == pytest.approx(auc)


def test_roc_auc_of_a_split_with_one_class_says_why(catalog: Any) -> None:
    with pytest.raises(ValueError, match=r"roc_auc needs at least 2 classes.*got only \[1\]"):
        catalog["metric"].get("roc_auc").score(np.array([1, 1, 1]), P_THREE[:3])
