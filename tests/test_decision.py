"""Class decisions at a threshold, and the threshold scikit-learn tunes on given predictions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from automl.decision import THRESHOLDS, class_indices, decided, tune_threshold


def _imbalanced(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """5% positives whose P(class 1) is higher but mostly under 0.5."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.05).astype("int64")
    p = np.clip(rng.normal(0.1, 0.07, n) + 0.15 * y, 0.0, 1.0)
    return y, np.stack([1.0 - p, p], axis=1)


def test_class_indices_argmax_or_threshold() -> None:
    proba = np.array([[0.7, 0.3], [0.4, 0.6], [0.5, 0.5]])
    assert class_indices(proba).tolist() == [0, 1, 0]  # argmax: ties go to the first class
    assert class_indices(proba, 0.3).tolist() == [1, 1, 1]  # >= threshold, as scikit-learn
    assert class_indices(proba, 0.55).tolist() == [0, 1, 0]
    assert decided(proba, 0.3).tolist() == [[0.0, 1.0]] * 3


def test_tuned_threshold_maximizes_f1_over_the_candidate_grid(catalog) -> None:
    y, proba = _imbalanced()
    threshold = tune_threshold(catalog["metric"].get("f1"), y, proba)
    # brute force over scikit-learn's grid: THRESHOLDS values between the lowest and highest P
    grid = np.linspace(proba[:, 1].min(), proba[:, 1].max(), THRESHOLDS)
    scores = [f1_score(y, (proba[:, 1] >= t).astype(int)) for t in grid]
    assert threshold == pytest.approx(grid[int(np.argmax(scores))])
    tuned = f1_score(y, class_indices(proba, threshold))
    assert tuned == pytest.approx(max(scores))
    assert tuned > f1_score(y, class_indices(proba)) + 0.3  # at 0.5 almost nothing is positive


def test_tuned_threshold_for_accuracy(catalog) -> None:
    y, proba = _imbalanced(seed=1)
    threshold = tune_threshold(catalog["metric"].get("accuracy"), y, proba)
    assert accuracy_score(y, class_indices(proba, threshold)) >= accuracy_score(
        y, class_indices(proba)
    )
