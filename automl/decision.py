"""Class decisions from a model's probabilities, and the decision threshold of a binary model.

A binary model outputs P(class 1). Without a threshold the predicted class is the most probable
one (0.5). When the study's metric depends on the threshold (`BaseMetric.tunes_threshold`:
accuracy, balanced accuracy, F1), `automl export` chooses the threshold that maximizes it on
out-of-fold (or validation) predictions with scikit-learn's `TunedThresholdClassifierCV`
(`cv="prefit"`: the predictions are given, nothing is refit), records it in `model.json`, and
`automl.load(DIR).predict` applies it; `predict_proba` stays raw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import make_scorer
from sklearn.model_selection import TunedThresholdClassifierCV

#: candidate thresholds, evenly spaced between the lowest and highest probability (scikit-learn's
#: default number)
THRESHOLDS = 100


def class_indices(output: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Class indices from class probabilities (n, k): the most probable class, or, with a
    `threshold` (binary models), class 1 where its probability is >= the threshold (as
    `TunedThresholdClassifierCV.predict` decides)."""
    output = np.asarray(output)
    if threshold is None:
        return np.argmax(output, axis=-1)
    return (output[:, 1] >= threshold).astype("int64")


def decided(output: np.ndarray, threshold: float | None) -> np.ndarray:
    """The decisions as one-hot "probabilities" (n, k): what a metric component scores when it
    must see the thresholded labels (metrics take probabilities and take their argmax)."""
    output = np.asarray(output)
    return np.eye(output.shape[1], dtype="float32")[class_indices(output, threshold)]


class _GivenProbabilities(ClassifierMixin, BaseEstimator):
    """A fitted "classifier" whose one input column is its own P(class 1): it lets scikit-learn
    tune the threshold of predictions that were made elsewhere (out-of-fold)."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> _GivenProbabilities:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = np.asarray(x, dtype="float64")[:, 0]
        return np.stack([1.0 - p, p], axis=1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x)[:, 0] >= 0.5).astype("int64")


def tune_threshold(metric: Any, y_true: np.ndarray, output: np.ndarray) -> float:
    """The threshold on P(class 1) that maximizes `metric` on these predictions.

    Args:
        metric: a metric component (`score(y_true, probabilities)`, maximized).
        y_true: class indices 0/1.
        output: class probabilities (n, 2).
    """
    y = np.asarray(y_true, dtype="int64")
    p = np.asarray(output, dtype="float64")[:, 1:2]

    def score(y_true: np.ndarray, labels: np.ndarray) -> float:
        return float(metric.score(y_true, np.eye(2)[np.asarray(labels, dtype="int64")]))

    tuner = TunedThresholdClassifierCV(
        _GivenProbabilities().fit(p, y),
        scoring=make_scorer(score),
        thresholds=THRESHOLDS,
        cv="prefit",
        refit=False,
    )
    return float(tuner.fit(p, y).best_threshold_)


__all__ = ["THRESHOLDS", "class_indices", "decided", "tune_threshold"]
