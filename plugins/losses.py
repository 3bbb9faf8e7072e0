"""Built-in losses: values (mse, mae, huber) and classification (crossentropy, focal).

Targets reach the loss as the core encodes them: regression and binary targets as floats of shape
(n, 1), forecasts as floats of shape (n, horizon), multiclass targets as class indices of shape
(n,) (the model outputs softmax probabilities). The custom losses are registered Keras classes in
`automl_plugins.keras_objects` (imported when a loss builds): exported models reload after
importing that module.
"""

from __future__ import annotations

from typing import Any

from automl import hookimpl
from automl.components import CLASSIFICATION, VALUES, BaseLoss, bool_param, float_param

REGRESSION = VALUES  # one value, or the next `horizon` values of a series


class CrossEntropy(BaseLoss):
    """Binary cross-entropy for binary tasks, categorical for multiclass, with label smoothing."""

    name = "crossentropy"
    help = (
        "Cross-entropy chosen from the task: binary, or sparse categorical (one-hot "
        "categorical when label_smoothing > 0)."
    )
    tasks = CLASSIFICATION
    default_for = CLASSIFICATION
    params = (
        float_param("label_smoothing", 0.0, "Smooth targets toward uniform.", bounds=(0, 0.99)),
    )

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        import keras

        from automl_plugins.keras_objects import SparseCategoricalCrossentropyLS

        smoothing = float(params.get("label_smoothing", 0.0))
        if task == "binary":
            return keras.losses.BinaryCrossentropy(label_smoothing=smoothing)
        if task != "multiclass":
            raise ValueError(f"crossentropy needs a classification task. Received: task={task!r}")
        if smoothing > 0:
            return SparseCategoricalCrossentropyLS(label_smoothing=smoothing)
        return keras.losses.SparseCategoricalCrossentropy()


class Focal(BaseLoss):
    """Focal loss: down-weights easy examples, for imbalanced classes."""

    name = "focal"
    help = "Focal loss -(1 - p_t)**gamma * log(p_t); gamma = 0 is cross-entropy."
    tasks = CLASSIFICATION
    params = (
        float_param("gamma", 2.0, "Focusing parameter.", low=0.0, high=4.0, bounds=(0, None)),
        float_param("alpha", 0.25, "Class-balancing weight (with class_balancing).", bounds=(0, 1)),
        bool_param("class_balancing", False, "Weight the loss by alpha_t."),
    )

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        from automl_plugins.keras_objects import FocalCrossentropy

        return FocalCrossentropy(params["gamma"], params["alpha"], params["class_balancing"])


class MSE(BaseLoss):
    """Mean squared error."""

    name = "mse"
    help = "Mean squared error, for regression and forecasts."
    tasks = REGRESSION
    default_for = REGRESSION

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        import keras

        return keras.losses.MeanSquaredError()


class MAE(BaseLoss):
    """Mean absolute error."""

    name = "mae"
    help = "Mean absolute error, for regression and forecasts (robust to outliers)."
    tasks = REGRESSION

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        import keras

        return keras.losses.MeanAbsoluteError()


class Huber(BaseLoss):
    """Huber loss: quadratic near zero, linear beyond `delta`."""

    name = "huber"
    help = "Huber loss: squared error below delta, absolute error beyond."
    tasks = REGRESSION
    params = (
        float_param(
            "delta",
            1.0,
            "Where the loss turns linear.",
            low=0.1,
            high=10.0,
            log=True,
            bounds=(0, None),
        ),
    )

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        from automl_plugins.keras_objects import HuberWithDelta

        return HuberWithDelta(delta=float(params.get("delta", 1.0)))


@hookimpl
def register_losses(register: Any) -> None:
    for loss in (CrossEntropy(), Focal(), MSE(), MAE(), Huber()):
        register(loss)
