"""Forecasting: the naive baselines a forecast must beat, the MASE scale, and the evaluation.

A forecast data set is a series cut into windows: `x` has shape (n, window, columns), `y` the next
`horizon` values of the target column, shape (n, horizon); its schema records `target_index`,
`horizon`, `stride` and the seasonal `period` (the `timeseries` data source writes them). The
baselines read only the window: the last value of the target (naive), and the value one period
back (seasonal naive). MASE (Hyndman & Koehler, 2006) divides the mean absolute error by the
seasonal naive forecast's mean absolute error on the training series.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.data import Splits, load_splits
from automl.errors import DataError

if TYPE_CHECKING:
    from automl.plugins import Catalog
    from automl.spec import Spec

NAIVE = "naive (last value)"


def seasonal_weights(schema: dict[str, Any], period: int | None = None) -> np.ndarray:
    """The seasonal naive forecast as a (window * columns, horizon) 0/1 matrix: a flattened
    window (rows x columns, row-major) times it gives the forecast.

    Step k (1-based) is the target value `period * ceil(k / period)` rows before it: the last
    season seen (Hyndman & Athanasopoulos, "Forecasting: principles and practice", 5.2); with
    `period` 1 every step is the last value (naive). `period` defaults to the schema's.
    """
    window, columns = int(schema["window"]), len(schema["columns"])
    horizon, target = int(schema["horizon"]), int(schema["target_index"])
    period = int(schema.get("period", 1) if period is None else period)
    weights = np.zeros((window * columns, horizon), dtype="float32")
    for k in range(1, horizon + 1):
        row = window - 1 - (period * math.ceil(k / period) - k)
        weights[row * columns + target, k - 1] = 1.0
    return weights


def naive_forecasts(x: np.ndarray, schema: dict[str, Any]) -> dict[str, np.ndarray]:
    """The baselines' forecasts of shape (n, horizon) from the windows `x`, by label: naive (the
    window's last target value) and, with a `period` > 1, seasonal naive."""
    flat = np.asarray(x, dtype="float64").reshape(len(x), -1)
    out = {NAIVE: flat @ seasonal_weights(schema, 1)}
    period = int(schema.get("period", 1))
    if period > 1:
        out[f"seasonal naive (period {period})"] = flat @ seasonal_weights(schema, period)
    return out


def forecast_head(features: Any, splits: Splits, inputs: Any) -> Any:
    """The seasonal naive forecast (a fixed linear layer reading the raw window) plus the
    correction the network learns, standardized like the training residuals: an untrained model
    forecasts about as well as the baseline, and a level outside the training range (a trend)
    passes straight through. Keras is imported here, when a model is built."""
    import keras

    weights = seasonal_weights(splits.schema)
    baseline = keras.layers.Dense(
        weights.shape[1], use_bias=False, trainable=False, name="seasonal_naive"
    )
    base = baseline(keras.layers.Flatten(name="window")(inputs))
    baseline.set_weights([weights])
    flat = np.asarray(splits.x_train, dtype="float64").reshape(len(splits.x_train), -1)
    residual = np.asarray(splits.y_train, dtype="float64") - flat @ weights
    mean, std = float(residual.mean()), float(residual.std()) or 1.0
    out = keras.layers.Dense(weights.shape[1], name="correction_standardized")(features)
    out = keras.layers.Rescaling(scale=std, offset=mean, name="correction")(out)
    return keras.layers.Add(name="output")([base, out])


def mase_scale(y_train: np.ndarray, stride: int = 1, period: int = 1) -> float:
    """The MASE denominator: mean |y_t - y_(t-period)| over the training target series.

    The series is rebuilt from the training windows' targets: window i forecasts the rows
    `i * stride + k` (k < horizon), so every pair of rows `period` apart that some window covers
    counts once.
    """
    y = np.asarray(y_train, dtype="float64")
    y = y.reshape(len(y), -1)
    rows = np.arange(len(y))[:, None] * stride + np.arange(y.shape[1])[None, :]
    series = np.full(int(rows.max()) + 1 if y.size else 0, np.nan)
    series[rows.ravel()] = y.ravel()
    diffs = series[period:] - series[:-period] if len(series) > period else np.array([])
    diffs = diffs[~np.isnan(diffs)]
    scale = float(np.mean(np.abs(diffs))) if len(diffs) else 0.0
    if not scale > 0:
        raise DataError(
            f"MASE is undefined here: the training series has no two values {period} rows apart "
            f"that differ ({len(diffs)} pairs). Choose another metric, or a longer series"
        )
    return scale


def errors(y_true: np.ndarray, y_pred: np.ndarray, scale: float) -> dict[str, float]:
    """MAE, RMSE, MAPE (a fraction) and MASE of forecasts, over every step."""
    from sklearn import metrics  # lazy: `automl validate` imports this module, not scikit-learn

    t = np.asarray(y_true, dtype="float64").ravel()
    p = np.asarray(y_pred, dtype="float64").ravel()
    mae = float(metrics.mean_absolute_error(t, p))
    return {
        "mae": mae,
        "rmse": float(np.sqrt(metrics.mean_squared_error(t, p))),
        "mape": float(metrics.mean_absolute_percentage_error(t, p)),
        "mase": mae / scale,
    }


def training_scale(splits: Splits) -> float:
    """`mase_scale` of the training split, with the stride and period the data source recorded."""
    return mase_scale(
        splits.y_train, int(splits.schema.get("stride", 1)), int(splits.schema.get("period", 1))
    )


def evaluation(splits: Splits, x: np.ndarray, y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """The model card's evaluation of a forecast on one split, beside the naive baselines."""
    scale = training_scale(splits)
    y = np.asarray(y, dtype="float64")
    pred = np.asarray(pred, dtype="float64").reshape(y.shape)
    return {
        "rows": len(y),
        **errors(y, pred, scale),
        "mae_by_step": [float(v) for v in np.mean(np.abs(y - pred), axis=0)],
        "baselines": {
            label: errors(y, forecast, scale)
            for label, forecast in naive_forecasts(x, splits.schema).items()
        },
    }


def baseline_scores(splits: Splits, metric: Any) -> dict[str, float]:
    """The study metric of every naive baseline on the validation split, by label."""
    return {
        label: float(metric.score(splits.y_val, forecast))
        for label, forecast in naive_forecasts(splits.x_val, splits.schema).items()
    }


def baseline_text(spec: Spec, catalog: Catalog) -> str:
    """Lines for under the leaderboard (each ending in a newline): the baselines' scores on the
    validation split, so a user sees whether the trials beat them ('' unless a forecast).

    Every metric of the study that scores predictions is shown, fitted to the splits (MASE scales
    by the training series); a measure of the model (`params`, `latency_ms`) has no baseline.
    """
    if spec.data.task != "forecast":
        return ""
    splits = load_splits(spec, catalog)
    metrics = [catalog["metric"].get(name) for name in spec.study.metrics]
    scores = {
        m.name: baseline_scores(splits, m.fitted(splits))
        for m in metrics
        if m.measures == "predictions"
    }
    if not scores:
        return ""
    labels = list(naive_forecasts(splits.x_val[:1], splits.schema))
    width = max(len(label) for label in labels)
    lines = [f"baselines on the validation split ({len(splits.y_val)} windows), not trials:"]
    lines += [
        f"  {label.ljust(width)}  "
        + ", ".join(f"{name} {by_label[label]:.4f}" for name, by_label in scores.items())
        for label in labels
    ]
    return "".join(f"{line}\n" for line in lines)


__all__ = [
    "NAIVE",
    "baseline_scores",
    "baseline_text",
    "errors",
    "evaluation",
    "forecast_head",
    "mase_scale",
    "naive_forecasts",
    "seasonal_weights",
    "training_scale",
]
