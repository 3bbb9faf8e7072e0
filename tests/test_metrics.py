"""Every built-in metric against scikit-learn on the same predictions; directions; task fit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.errors import SpecError
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
}
DIRECTIONS = {"log_loss": "minimize", "mse": "minimize", "rmse": "minimize", "mae": "minimize"}


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
    references = set(CLASSIFICATION_REFERENCES) | set(REGRESSION_REFERENCES) | MEASURES
    assert set(builtin_metrics(catalog)) == references


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
    assert metric.tasks == ("regression",)
    y, p = predictions("regression")
    assert metric.score(y, p) == pytest.approx(float(REGRESSION_REFERENCES[name](y, p)))
    assert metric.direction == DIRECTIONS.get(name, "maximize")


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
