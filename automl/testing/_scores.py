"""Checks of components that score predictions: losses and metrics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from automl.components import maximizes
from automl.testing._common import N_CLASSES, fail, rng, task_data, to_numpy


def _mean(fn: Any, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    import keras

    return float(to_numpy(keras.ops.mean(fn(y_true, y_pred))))


def check_loss(component: Any, params: dict[str, Any]) -> None:
    """For every task: finite values, perfect predictions cost less, the loss reloads."""
    import keras

    gen = rng()
    for task in component.tasks:
        y, perfect, random = task_data(task, gen)
        n_classes = N_CLASSES if task == "multiclass" else (2 if task == "binary" else 0)
        loss = component.build(task, n_classes, **params)
        fn = keras.losses.get(loss) if isinstance(loss, str) else loss
        if not callable(fn):
            raise fail(
                component,
                f"expected a Keras loss or its name for task {task!r}. Received: {loss!r}",
            )
        y_true = y if task == "multiclass" else y.reshape(-1, 1)
        if task != "multiclass":
            perfect, random = perfect.reshape(-1, 1), random.reshape(-1, 1)
        good, bad = _mean(fn, y_true, perfect), _mean(fn, y_true, random)
        if not (math.isfinite(good) and math.isfinite(bad)):
            raise fail(
                component, f"expected finite loss values for task {task!r}. Received: {good}, {bad}"
            )
        if good > bad + 1e-6:
            raise fail(
                component,
                f"expected a lower loss for near-perfect than for random predictions ({task}). "
                f"Received: perfect={good:.4g}, random={bad:.4g}",
            )
        if not isinstance(loss, str):
            _check_loss_reloads(component, loss, y_true, random, bad)


def _check_loss_reloads(
    component: Any, loss: Any, y_true: np.ndarray, y_pred: np.ndarray, expected: float
) -> None:
    """The loss is saved in model.keras: its config must give back the same loss."""
    import keras

    config = keras.saving.serialize_keras_object(loss)
    try:
        again = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as exc:
        raise fail(
            component,
            "the loss does not deserialize (it is saved in model.keras); register it with "
            "keras.saving.register_keras_serializable(package=...). "
            f"Received: {type(exc).__name__}: {exc}",
        ) from exc
    value = _mean(again, y_true, y_pred)
    if not math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-6):
        raise fail(component, f"the reloaded loss gives {value:.6g} instead of {expected:.6g}")


def check_metric(component: Any, params: dict[str, Any]) -> None:
    """For every task: a finite float, and perfect predictions score at least as well. A metric
    that measures the model: a finite float for two small models."""
    if getattr(component, "measures", "predictions") == "model":
        _check_measure(component)
        return
    gen = rng()
    for task in component.tasks:
        y, perfect, random = task_data(task, gen)
        if task == "binary":
            perfect = np.stack([1 - perfect, perfect], axis=1)
            random = np.stack([1 - random, random], axis=1)
            y = y.astype("int64")
        good, bad = component.score(y, perfect), component.score(y, random)
        for value in (good, bad):
            if not isinstance(value, float | int | np.floating) or not math.isfinite(float(value)):
                raise fail(
                    component,
                    f"expected a finite float score for task {task!r}. Received: {value!r}",
                )
        better = good >= bad if maximizes(component.direction) else good <= bad
        if not better:
            raise fail(
                component,
                f"expected perfect predictions to score at least as well as random ones "
                f"({task}, {component.direction}). Received: perfect={good:.4g}, random={bad:.4g}",
            )


def _check_measure(component: Any) -> None:
    """`measure(model, rows)` gives a finite float for a tiny Dense model and a wider one."""
    import keras

    x = rng().normal(size=(8, 4)).astype("float32")
    for units in (2, 64):
        inputs = keras.Input(shape=(4,), name="inputs")
        model = keras.Model(inputs, keras.layers.Dense(units)(inputs))
        value = component.measure(model, x)
        if not isinstance(value, float | int | np.floating) or not math.isfinite(float(value)):
            raise fail(
                component,
                f"expected a finite float measure of a Dense({units}) model. Received: {value!r}",
            )
