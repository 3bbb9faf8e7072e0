"""Which metrics a trial computes, and their values: scores of predictions, measures of the model.

A study ranks trials by its metrics (`study.metric`, one or several) and may bound others
(`study.constraints`). A metric either scores the predictions on a split (`measures =
"predictions"`, e.g. accuracy) or measures the trained model itself (`measures = "model"`, e.g.
its parameter count or latency); the core asks each metric which it is and names none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.components import BaseMetric
from automl.errors import AutoMLError
from automl.plugins import Catalog
from automl.spec import Spec

if TYPE_CHECKING:
    from automl.data import Splits

#: validation rows given to a metric that measures the model (`latency_ms` cycles through them)
MEASURE_ROWS = 200


def epoch_metric(spec: Spec, catalog: Catalog, splits: Splits) -> BaseMetric:
    """The metric computed after every epoch (early stopping, pruning, learning curves): the
    first of `study.metric` that scores predictions, fitted to `splits` (`BaseMetric.fitted`:
    MASE scales by the training series). A measure of the model cannot be it: the model's size
    and speed do not change while it trains."""
    for name in spec.study.metrics:
        metric: BaseMetric = catalog["metric"].get(name)
        if metric.measures == "predictions":
            return metric.fitted(splits)
    raise AutoMLError(
        "study.metric: expected at least one metric of the predictions to train against, "
        f"but every one measures the model. Received: metric={list(spec.study.metrics)}"
    )


def measured_metrics(spec: Spec) -> tuple[str, ...]:
    """The metrics a trial computes: the study's, then those only its constraints name."""
    extra = [c.metric for c in spec.study.constraints if c.metric not in spec.study.metrics]
    return (*spec.study.metrics, *dict.fromkeys(extra))


def measures_the_model(spec: Spec, catalog: Catalog) -> list[str]:
    """The metrics and constraints of the study that measure the model itself (its size, its
    speed): an average of K fold models would multiply what they measured."""
    return [n for n in measured_metrics(spec) if catalog["metric"].get(n).measures == "model"]


def metric_values(
    names: tuple[str, ...],
    catalog: Catalog,
    model: Any,
    y_true: np.ndarray,
    predictions: Callable[[], np.ndarray],
    rows: Any,
    splits: Splits,
) -> dict[str, float]:
    """Each metric of `names` on one split.

    Args:
        names: the metrics.
        catalog: the registries (a metric that raises fails the trial, naming its plugin).
        model: the trained Keras model.
        y_true: the split's targets.
        predictions: computes the model's output on the split (called once, if a metric scores
            predictions).
        rows: inputs of the split, as the model takes them, for the metrics that measure it.
        splits: the study's splits, which a metric scaled by the training data is fitted to
            (`BaseMetric.fitted`) before it scores `y_true`.
    """
    values: dict[str, float] = {}
    predicted: np.ndarray | None = None
    for name in names:
        with catalog.blame("metric", name) as metric:
            if metric.measures == "model":
                values[name] = float(metric.measure(model, rows))
                continue
            if predicted is None:
                predicted = predictions()
            values[name] = float(metric.fitted(splits).score(y_true, predicted))
    return values


def objective_values(spec: Spec, values: dict[str, float]) -> float | tuple[float, ...]:
    """What the objective returns to Optuna: the one value, or one per metric in order."""
    if not spec.study.multi_objective:
        return values[spec.study.metric]
    return tuple(values[name] for name in spec.study.metrics)


def violations(spec: Spec, values: dict[str, float]) -> dict[str, float]:
    """{metric: how far its value is outside `study.constraints`} (<= 0: feasible)."""
    return {c.metric: c.violation(values[c.metric]) for c in spec.study.constraints}


def broken_constraints(spec: Spec, values: dict[str, float]) -> list[str]:
    """One line per violated bound of `study.constraints`: `params 123456 > max 100000`."""
    out = []
    for c in spec.study.constraints:
        value = values[c.metric]
        if c.max is not None and value > c.max:
            out.append(f"{c.metric} {value:.6g} > max {c.max:g}")
        if c.min is not None and value < c.min:
            out.append(f"{c.metric} {value:.6g} < min {c.min:g}")
    return out


__all__ = [
    "MEASURE_ROWS",
    "broken_constraints",
    "epoch_metric",
    "measured_metrics",
    "measures_the_model",
    "metric_values",
    "objective_values",
    "violations",
]
