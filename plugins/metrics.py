"""Built-in metrics: scores of the model's predictions, and measures of the model itself.

`score(y_true, y_pred)` gets class indices and class probabilities (n, k) for classification
(binary as two columns), true and predicted values (n,) for regression, (n, horizon) for forecasts;
it is computed exactly with scikit-learn. Each metric declares its direction and the tasks it fits
(checked at `automl validate` time). `params`, `size_mb` and `latency_ms` measure the trained
model (what it costs to ship and to run), for multi-objective studies and constraints.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from automl import hookimpl
from automl.components import CLASSIFICATION, VALUES, BaseMetric, BaseModelMeasure
from automl.data import Splits
from automl.forecast import mase_scale, training_scale

REGRESSION = ("regression",)
FORECAST = ("forecast",)


class _SklearnMetrics:
    """`skm.f1_score(...)` calls `sklearn.metrics.f1_score`, importing scikit-learn on the first
    call: discovering the plugin (`automl validate`) does not pay for it."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            from sklearn import metrics

            return getattr(metrics, name)(*args, **kwargs)

        return call


skm = _SklearnMetrics()


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
        present = np.unique(y_true)
        if len(present) < 2:
            raise ValueError(
                f"roc_auc needs at least 2 classes in the validation split, got only {present}: "
                "use more rows, fewer folds, or another metric"
            )
        if p.shape[1] == 2:
            return float(skm.roc_auc_score(y_true, p[:, 1]))
        # one-vs-rest macro average over the classes the split holds (scikit-learn gives NaN
        # when a class is absent, and a NaN score would fail the trial)
        return float(np.mean([skm.roc_auc_score(y_true == c, p[:, c]) for c in present]))


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
    """A scikit-learn regression metric (a forecast's steps count as values)."""

    tasks = VALUES

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


class MASE(BaseMetric):
    """Mean absolute scaled error: the MAE over the seasonal naive forecast's in-sample MAE.

    Fitted to a study's splits (`fitted`), the scale is the training series' mean
    |y_t - y_(t-period)| (`automl.forecast.mase_scale`, the period the data source declares);
    scored without a training split, it is the naive scale of `y_true` itself.
    """

    name = "mase"
    help = (
        "Mean absolute scaled error: MAE / in-sample MAE of the seasonal naive forecast on the "
        "training series; below 1 beats it (lower is better)."
    )
    tasks = FORECAST
    direction = "minimize"

    def __init__(self, scale: float | None = None) -> None:
        self.scale = scale

    def fitted(self, splits: Splits) -> MASE:
        return MASE(training_scale(splits))

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        scale = self.scale if self.scale is not None else mase_scale(y_true)
        mae = skm.mean_absolute_error(np.ravel(y_true), np.ravel(y_pred))
        return float(mae / scale)


# ------------------------------------------------------------------------- measures of the model
class ParamCount(BaseModelMeasure):
    """Every weight of the model, trainable or not (Keras' `count_params`)."""

    name = "params"
    help = "Parameters of the model, trainable and non-trainable (lower is smaller)."

    def measure(self, model: Any, x: Any) -> float:
        return float(model.count_params())


def _save(model: Any, directory: str) -> Path:
    path = Path(directory) / "model.keras"
    model.save(path)
    return path


class SizeMB(BaseModelMeasure):
    """The size of the saved `model.keras` (what `automl export` writes), in MB (10^6 bytes)."""

    name = "size_mb"
    help = "Size of the saved model.keras in MB, 10^6 bytes (lower is smaller)."

    def measure(self, model: Any, x: Any) -> float:
        with tempfile.TemporaryDirectory(prefix="automl-size-") as tmp:
            return os.path.getsize(_save(model, tmp)) / 1e6


class LatencyMs(BaseModelMeasure):
    """Median CPU time of one prediction of one row (batch 1), in milliseconds.

    The model is saved and loaded back on the CPU (`keras.device("cpu:0")`), so the figure is
    the exported model's, preprocessing included, on the CPU even where the trials train on a
    GPU. It is called through Keras' compiled predict step (`predict_on_batch`), one row at a
    time, cycling through the given rows:

    - `warmup` (10) untimed calls first: the first traces and compiles the step, the next ones
      settle allocator and thread-pool caches;
    - then `rounds` (5) rounds of `calls_per_round` (40) calls, each timed on its own; no new
      round starts after `budget_s` (2 s) once one has run, so a slow model costs seconds, not
      minutes;
    - the latency is the median of a round (it ignores the few calls a garbage collection or a
      late thread wake-up delayed, which a mean would not), of the least disturbed round: other
      processes on the machine only ever add time, as `timeit` keeps the best of its repeats.
    """

    name = "latency_ms"
    help = (
        "Median CPU latency of one row at batch 1 in ms, on the saved model after warm-up "
        "(lower is faster)."
    )
    warmup = 10
    rounds = 5
    calls_per_round = 40
    budget_s = 2.0

    def measure(self, model: Any, x: Any) -> float:
        import keras

        with tempfile.TemporaryDirectory(prefix="automl-latency-") as tmp:
            path = _save(model, tmp)
            with keras.device("cpu:0"):
                cpu_model = keras.saving.load_model(path, compile=False)
                return self.time_calls(cpu_model.predict_on_batch, x)

    def time_calls(self, predict: Callable[[Any], Any], x: Any) -> float:
        """Milliseconds per call of `predict(one row of x)` (see the class docstring)."""
        rows = int(x.shape[0])
        if rows == 0:
            raise ValueError("latency_ms needs at least one input row to time the model")
        for i in range(self.warmup):
            predict(x[i % rows : i % rows + 1])
        medians: list[float] = []
        stop = time.perf_counter() + self.budget_s
        while len(medians) < self.rounds and (not medians or time.perf_counter() < stop):
            times = []
            for i in range(self.calls_per_round):
                row = x[i % rows : i % rows + 1]
                started = time.perf_counter()
                predict(row)
                times.append(time.perf_counter() - started)
            medians.append(statistics.median(times))
        return 1000.0 * min(medians)


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
            "mae",
            "Mean absolute error (lower is better).",
            skm.mean_absolute_error,
            "minimize",
            FORECAST,
        )
    )
    register(
        RegressionMetric(
            "mape",
            "Mean absolute percentage error as a fraction (0.05 = 5%; large near zero targets; "
            "lower is better).",
            skm.mean_absolute_percentage_error,
            "minimize",
        )
    )
    register(MASE())
    register(
        RegressionMetric(
            "r2", "Coefficient of determination R^2 (higher is better).", skm.r2_score, "maximize"
        )
    )
    for measure in (ParamCount(), SizeMB(), LatencyMs()):
        register(measure)
