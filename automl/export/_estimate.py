"""Honest numbers for the card: the decision threshold, the estimate, the test score's interval.

- The threshold (binary tasks, metrics with `tunes_threshold`) is chosen on the exported model's
  out-of-fold predictions (`automl.decision.tune_threshold`).
- The estimate is the metric on out-of-fold predictions, fold by fold: mean and standard deviation
  over folds. When a threshold is tuned, fold k is scored with the threshold tuned on the other
  folds' rows, so the estimate includes the tuning instead of flattering it (nested, as
  cross-validating `TunedThresholdClassifierCV` would). A hold-out study has one fold: its
  estimate is the validation score and has no spread.
- The test score comes with a seeded bootstrap 95% interval (SciPy's `bootstrap`, percentile
  method, resampling test rows).

Every score comes from the metric fitted (`BaseMetric.fitted`: MASE scales by the training
series) to the rows the scored predictions were trained on: fold k's training rows for fold k's
out-of-fold predictions, the exported model's training rows for its test predictions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from automl.data import Partition, Splits
from automl.decision import decided, tune_threshold
from automl.export._ensemble import scored_rows
from automl.export._source import ExportedModel
from automl.trial import predict_output

#: bootstrap resamples of the test rows, and the interval's confidence level
RESAMPLES, LEVEL = 1000, 0.95


def scored(metric: Any, y: np.ndarray, output: np.ndarray, threshold: float | None) -> float:
    """The metric of `output` (probabilities or values), decided at `threshold` when given."""
    return float(metric.score(y, decided(output, threshold) if threshold is not None else output))


def choose_threshold(
    metric: Any, task: str, oof: np.ndarray | None, y: np.ndarray
) -> dict[str, Any] | None:
    """The tuned decision threshold, with the out-of-fold scores at 0.5 and at it; None when the
    task or metric has none, or when there are no out-of-fold predictions."""
    if task != "binary" or not getattr(metric, "tunes_threshold", False) or oof is None:
        return None
    rows = scored_rows([oof])
    if not rows.any():
        return None
    value = tune_threshold(metric, y[rows], oof[rows])
    return {
        "value": value,
        "rows": int(rows.sum()),
        "score_at_0.5": scored(metric, y[rows], oof[rows], None),
        "score": scored(metric, y[rows], oof[rows], value),
    }


def cross_validated(
    metric: Any, oof: np.ndarray, partition: Partition, tuned: bool
) -> dict[str, Any]:
    """The estimate from out-of-fold predictions: the metric per fold, their mean and std.

    Args:
        metric: the study's metric component (fitted to each fold's training rows here).
        oof: out-of-fold predictions of every development row (NaN where none).
        partition: the study's folds and targets.
        tuned: a threshold is tuned for the exported model: score each fold at the threshold
            tuned on the other folds (on its own rows for a single hold-out fold).
    """
    rows = scored_rows([oof])
    y, scores = partition.y, []
    for k, (_, val) in enumerate(partition.folds):
        val = val[rows[val]]
        if not len(val):
            continue
        fold_metric = metric.fitted(partition.fold(k))  # fold k's own training rows
        threshold = None
        if tuned:
            others = rows.copy()
            if partition.cross_validated:
                others[val] = False
            threshold = tune_threshold(fold_metric, y[others], oof[others])
        scores.append(scored(fold_metric, y[val], oof[val], threshold))
    return _spread(scores, int(rows.sum()))


def from_fold_scores(fold_scores: list[float], rows: int) -> dict[str, Any]:
    """The estimate when only the trial's recorded fold scores are known."""
    return _spread([float(s) for s in fold_scores], rows)


def _spread(scores: list[float], rows: int) -> dict[str, Any]:
    return {
        "mean": float(np.mean(scores)) if scores else None,
        # population std over folds, as scikit-learn's GridSearchCV `std_test_score`
        "std": float(np.std(scores)) if len(scores) > 1 else None,
        "folds": scores,
        "rows": rows,
    }


def bootstrap_interval(
    metric: Any,
    y: np.ndarray,
    output: np.ndarray,
    threshold: float | None,
    seed: int | None,
) -> dict[str, Any]:
    """A bootstrap confidence interval of the test score (rows resampled with replacement)."""

    def statistic(index: np.ndarray) -> float:
        try:
            return scored(metric, y[index], output[index], threshold)
        except ValueError:  # e.g. a resample with one class only has no ROC AUC
            return float("nan")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy's note when every resample scores alike
        result = stats.bootstrap(
            (np.arange(len(y)),),
            statistic,
            vectorized=False,
            n_resamples=RESAMPLES,
            confidence_level=LEVEL,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    low, high = (float(v) for v in result.confidence_interval)
    finite = np.isfinite(low) and np.isfinite(high)
    return {
        "low": low if finite else None,
        "high": high if finite else None,
        "level": LEVEL,
        "method": "bootstrap (percentile) over test rows",
        "resamples": RESAMPLES,
        "seed": seed,
    }


@dataclass
class Assessment:
    """Everything the card says about how good the exported model is.

    Args:
        threshold: `choose_threshold`'s result, or None (argmax / regression).
        estimate: `cross_validated`'s result plus its `method`.
        split: where `evaluation` was computed: `test`, `out-of-fold` (no test split) or `none`.
        x, y, output: that split's inputs, targets and the model's (or the out-of-fold) outputs.
        trained: the rows that produced `output` were trained on (`training_rows`): what a
            metric scaled by the training data is fitted to on that split.
        test_score: the metric on the test split (None without one).
        test_interval: its bootstrap interval (None without a test split).
    """

    threshold: dict[str, Any] | None
    estimate: dict[str, Any]
    split: str
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    output: np.ndarray = field(repr=False)
    trained: Splits = field(repr=False)
    test_score: float | None = None
    test_interval: dict[str, Any] | None = None

    @property
    def gap(self) -> float | None:
        """Estimate minus test score (positive: the estimate was optimistic)."""
        mean = self.estimate.get("mean")
        return None if mean is None or self.test_score is None else mean - self.test_score

    @property
    def threshold_value(self) -> float | None:
        """The decision threshold on P(class 1), or None."""
        return self.threshold["value"] if self.threshold else None


def assess(
    exported: ExportedModel, partition: Partition, metric: Any, seed: int | None
) -> Assessment:
    """Threshold, estimate and test score of the exported model (see the module docstring)."""
    oof, task = exported.oof, partition.task
    threshold = choose_threshold(metric.fitted(partition.development()), task, oof, partition.y)
    tuned = threshold["value"] if threshold else None
    if oof is not None:
        estimate = cross_validated(metric, oof, partition, tuned is not None)
    else:
        recorded = exported.trial.user_attrs.get("fold_scores") or [exported.validation_score]
        estimate = from_fold_scores(recorded, 0)
    estimate["method"] = estimate_method(exported, partition, tuned is not None)
    test = partition.test
    if len(test.x_test):
        trained = training_rows(exported.kind, partition)
        fitted = metric.fitted(trained)
        output = predict_output(exported.model, test.x_test, task)
        score = scored(fitted, test.y_test, output, tuned)
        interval = bootstrap_interval(fitted, test.y_test, output, tuned, seed)
        return Assessment(
            threshold, estimate, "test", test.x_test, test.y_test, output, trained, score, interval
        )
    # out-of-fold predictions: a hold-out's come from the model trained on fold 0's training rows
    trained = training_rows("trial" if not partition.cross_validated else "bag", partition)
    if oof is None:
        return Assessment(
            threshold, estimate, "none", test.x_test, test.y_test, np.zeros((0,)), trained
        )
    rows = scored_rows([oof])
    return Assessment(
        threshold, estimate, "out-of-fold", partition.x[rows], partition.y[rows], oof[rows], trained
    )


def training_rows(kind: str, partition: Partition) -> Splits:
    """The rows a model of this `ExportedModel.kind` was trained on, as training splits: a
    hold-out trial's are fold 0's; a bag's and an ensemble's fold models, and a single refit,
    together saw every development row."""
    return partition.fold(0) if kind == "trial" else partition.development()


def estimate_method(exported: ExportedModel, partition: Partition, tuned: bool) -> str:
    """How the estimate was made, in words, for the card."""
    k, n = len(partition.folds), len(partition.x)
    if not partition.cross_validated:
        how = "the validation split of a hold-out study"
    elif exported.kind == "ensemble":
        how = (
            f"{k}-fold out-of-fold predictions of the ensemble, whose members were selected on "
            "them (slightly optimistic)"
        )
    elif exported.kind == "single":
        how = f"{k}-fold cross-validation of the configuration, refit on all {n} rows"
    else:
        how = f"{k}-fold cross-validation: each fold model scored on the rows it did not see"
    if tuned:
        how += (
            "; each fold at the threshold tuned on the other folds"
            if partition.cross_validated
            else "; at the threshold tuned on the same rows"
        )
    return how


__all__ = [
    "LEVEL",
    "RESAMPLES",
    "Assessment",
    "assess",
    "bootstrap_interval",
    "choose_threshold",
    "cross_validated",
    "estimate_method",
    "from_fold_scores",
    "scored",
    "training_rows",
]
