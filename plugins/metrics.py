"""Built-in metrics, computed exactly with scikit-learn on the model's predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm

from automl import hookimpl
from automl.components import CLASSIFICATION, BaseMetric


def labels_of(y_pred: np.ndarray) -> np.ndarray:
    """Class indices from class probabilities of shape (n, k)."""
    return np.argmax(y_pred, axis=-1)


class Accuracy(BaseMetric):
    """Fraction of correct labels."""

    name = "accuracy"
    help = "Accuracy (higher is better)."
    tasks = CLASSIFICATION
    direction = "maximize"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(skm.accuracy_score(y_true, labels_of(y_pred)))


class F1Macro(BaseMetric):
    """F1 averaged over classes with equal weight."""

    name = "f1_macro"
    help = "Macro-averaged F1 (higher is better)."
    tasks = CLASSIFICATION
    direction = "maximize"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        n_classes = y_pred.shape[-1]
        return float(skm.f1_score(y_true, labels_of(y_pred), average="macro", labels=list(range(n_classes)), zero_division=0))


class RMSE(BaseMetric):
    """Root mean squared error."""

    name = "rmse"
    help = "Root mean squared error (lower is better)."
    tasks = ("regression",)
    direction = "minimize"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.sqrt(skm.mean_squared_error(y_true, np.ravel(y_pred))))


@hookimpl
def register_metrics(register: Any) -> None:
    register(Accuracy())
    register(F1Macro())
    register(RMSE())
