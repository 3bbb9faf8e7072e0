"""Built-in metrics, computed exactly with scikit-learn on the model's predictions.

`score(y_true, y_pred)` gets class indices and class probabilities (n, k) for classification
(binary as two columns), true and predicted values (n,) for regression. Each metric declares its
direction and the tasks it fits (checked at `automl validate` time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics as skm

from automl import hookimpl
from automl.components import CLASSIFICATION, BaseMetric

REGRESSION = ("regression",)


def labels_of(y_pred: np.ndarray) -> np.ndarray:
    """Class indices from class probabilities of shape (n, k)."""
    return np.argmax(y_pred, axis=-1)


def _probabilities(y_pred: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(y_pred, dtype="float64"), 0.0, None)
    return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)


class Accuracy(BaseMetric):
    """Fraction of correct labels."""

    name = "accuracy"
    help = "Accuracy (higher is better)."
    tasks = CLASSIFICATION
    default_for = CLASSIFICATION
    tunes_threshold = True

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(skm.accuracy_score(y_true, labels_of(y_pred)))


class BalancedAccuracy(BaseMetric):
    """Mean recall over classes."""

    name = "balanced_accuracy"
    help = "Balanced accuracy: mean per-class recall (higher is better)."
    tasks = CLASSIFICATION
    tunes_threshold = True

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(skm.balanced_accuracy_score(y_true, labels_of(y_pred)))


class AveragedScore(BaseMetric):
    """precision / recall / f1 with one scikit-learn `average` (binary: the second class)."""

    def __init__(self, what: str, average: str) -> None:
        self.what, self.average = what, average
        # precision or recall alone is maximized by a degenerate threshold (recall 1.0 when
        # everything is positive): only F1, which balances them, gets a tuned threshold
        self.tunes_threshold = what == "f1"  # type: ignore[misc]
        suffix = "" if average == "binary" else f"_{average}"
        self.name = f"{what}{suffix}"  # type: ignore[misc]
        self.tasks = ("binary",) if average == "binary" else CLASSIFICATION  # type: ignore[misc]
        scope = "of the positive (second) class" if average == "binary" else f"{average}-averaged"
        self.help = f"{what.capitalize()} {scope} (higher is better)."  # type: ignore[misc]
        self.fn: Callable[..., Any] = {
            "precision": skm.precision_score,
            "recall": skm.recall_score,
            "f1": skm.f1_score,
        }[what]

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        labels = list(range(y_pred.shape[-1]))
        kwargs: dict[str, Any] = {"zero_division": 0}
        if self.average == "binary":
            kwargs["pos_label"] = 1
        else:
            kwargs["labels"] = labels
        return float(self.fn(y_true, labels_of(y_pred), average=self.average, **kwargs))


class RocAuc(BaseMetric):
    """Area under the ROC curve (one-vs-rest macro average for multiclass)."""

    name = "roc_auc"
    help = "ROC AUC; one-vs-rest macro average for multiclass (higher is better)."
    tasks = CLASSIFICATION

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        p = _probabilities(y_pred)
        if p.shape[1] == 2:
            return float(skm.roc_auc_score(y_true, p[:, 1]))
        return float(
            skm.roc_auc_score(y_true, p, multi_class="ovr", labels=list(range(p.shape[1])))
        )


class LogLoss(BaseMetric):
    """Cross-entropy of the predicted probabilities."""

    name = "log_loss"
    help = "Log loss of the class probabilities (lower is better)."
    tasks = CLASSIFICATION
    direction = "minimize"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        p = _probabilities(y_pred)
        return float(skm.log_loss(y_true, p, labels=list(range(p.shape[1]))))


class RegressionMetric(BaseMetric):
    """A scikit-learn regression metric."""

    tasks = REGRESSION

    def __init__(
        self,
        name: str,
        help: str,
        fn: Callable[..., Any],
        direction: str,
        default_for: tuple[str, ...] = (),
    ) -> None:
        self.name, self.help, self.fn = name, help, fn  # type: ignore[misc]
        self.direction = direction  # type: ignore[misc,assignment]
        self.default_for = default_for  # type: ignore[misc]

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(self.fn(np.ravel(y_true), np.ravel(y_pred)))


def _rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(skm.mean_squared_error(y_true, y_pred)))


@hookimpl
def register_metrics(register: Any) -> None:
    register(Accuracy())
    register(BalancedAccuracy())
    for what in ("precision", "recall", "f1"):
        for average in ("binary", "macro", "micro", "weighted"):
            register(AveragedScore(what, average))
    register(RocAuc())
    register(LogLoss())
    register(
        RegressionMetric(
            "mse", "Mean squared error (lower is better).", skm.mean_squared_error, "minimize"
        )
    )
    register(
        RegressionMetric(
            "rmse", "Root mean squared error (lower is better).", _rmse, "minimize", REGRESSION
        )
    )
    register(
        RegressionMetric(
            "mae", "Mean absolute error (lower is better).", skm.mean_absolute_error, "minimize"
        )
    )
    register(
        RegressionMetric(
            "r2", "Coefficient of determination R^2 (higher is better).", skm.r2_score, "maximize"
        )
    )
