"""Built-in losses: values (mse, mae, huber) and classification (crossentropy, focal).

Targets reach the loss as the core encodes them: regression and binary targets as floats of shape
(n, 1), forecasts as floats of shape (n, horizon), multiclass targets as class indices of shape
(n,) (the model outputs softmax probabilities). The custom losses are registered Keras classes,
so exported models reload.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from automl import hookimpl
from automl.components import CLASSIFICATION, VALUES, BaseLoss, bool_param, float_param

REGRESSION = VALUES  # one value, or the next `horizon` values of a series


@keras.saving.register_keras_serializable(package="automl")
class SparseCategoricalCrossentropyLS(keras.losses.Loss):
    """Categorical cross-entropy on class-index targets, with label smoothing.

    Keras' SparseCategoricalCrossentropy has no `label_smoothing`: the targets are one-hot encoded
    here, smoothed to `y * (1 - s) + s / k`, and passed to categorical cross-entropy.

    Args:
        label_smoothing: amount of smoothing in [0, 1). Defaults to `0.0`.
    """

    def __init__(
        self,
        label_smoothing: float = 0.0,
        name: str = "sparse_categorical_crossentropy_ls",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        n_classes = y_pred.shape[-1]
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        one_hot = ops.one_hot(labels, n_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, label_smoothing=self.label_smoothing
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="automl")
class FocalCrossentropy(keras.losses.Loss):
    """Focal loss for binary (sigmoid, one output) and multiclass (softmax, index targets) models.

    loss = -alpha_t * (1 - p_t) ** gamma * log(p_t), where p_t is the probability of the true
    class. With `class_balancing=False` alpha_t is 1, so `gamma=0` is exactly cross-entropy. With
    balancing, alpha_t is `alpha` for the positive class and `1 - alpha` for the negative one
    (binary), or `alpha` for every class (multiclass), as in Keras' focal losses.

    Args:
        gamma: focusing parameter >= 0. Defaults to `2.0`.
        alpha: class-balancing weight in [0, 1]. Defaults to `0.25`.
        class_balancing: apply `alpha`. Defaults to `False`.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float = 0.25,
        class_balancing: bool = False,
        name: str = "focal_crossentropy",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.class_balancing = bool(class_balancing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        eps = keras.backend.epsilon()
        y_pred = ops.clip(y_pred, eps, 1.0 - eps)
        if y_pred.shape[-1] == 1:  # binary: sigmoid output, targets 0/1
            y = ops.cast(ops.reshape(y_true, ops.shape(y_pred)), y_pred.dtype)
            p_t = y * y_pred + (1.0 - y) * (1.0 - y_pred)
            alpha_t = y * self.alpha + (1.0 - y) * (1.0 - self.alpha)
        else:  # multiclass: softmax output, class-index targets
            labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
            one_hot = ops.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)
            p_t = ops.sum(one_hot * y_pred, axis=-1, keepdims=True)
            alpha_t = ops.full_like(p_t, self.alpha)
        loss = -ops.power(1.0 - p_t, self.gamma) * ops.log(p_t)
        if self.class_balancing:
            loss = alpha_t * loss
        return ops.mean(loss, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "gamma": self.gamma,
            "alpha": self.alpha,
            "class_balancing": self.class_balancing,
        }


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
        return FocalCrossentropy(params["gamma"], params["alpha"], params["class_balancing"])


class MSE(BaseLoss):
    """Mean squared error."""

    name = "mse"
    help = "Mean squared error, for regression and forecasts."
    tasks = REGRESSION
    default_for = REGRESSION

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        return keras.losses.MeanSquaredError()


class MAE(BaseLoss):
    """Mean absolute error."""

    name = "mae"
    help = "Mean absolute error, for regression and forecasts (robust to outliers)."
    tasks = REGRESSION

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        return keras.losses.MeanAbsoluteError()


@keras.saving.register_keras_serializable(package="automl")
class HuberWithDelta(keras.losses.Huber):
    """`keras.losses.Huber` whose config keeps `delta` (Keras' own drops it on save)."""

    def __init__(self, delta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(delta=delta, **kwargs)
        self.delta = float(delta)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "delta": self.delta}


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
        return HuberWithDelta(delta=float(params.get("delta", 1.0)))


@hookimpl
def register_losses(register: Any) -> None:
    for loss in (CrossEntropy(), Focal(), MSE(), MAE(), Huber()):
        register(loss)
