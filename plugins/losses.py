"""Built-in losses."""

from __future__ import annotations

from typing import Any

import keras

from automl import hookimpl
from automl.components import CLASSIFICATION, BaseLoss


class CrossEntropy(BaseLoss):
    """Binary cross-entropy for binary tasks, sparse categorical for multiclass."""

    name = "crossentropy"
    help = "Cross-entropy; binary or sparse categorical, chosen from the task."
    tasks = CLASSIFICATION

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        if task == "binary":
            return keras.losses.BinaryCrossentropy()
        return keras.losses.SparseCategoricalCrossentropy()


class MSE(BaseLoss):
    """Mean squared error."""

    name = "mse"
    help = "Mean squared error, for regression."
    tasks = ("regression",)

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        return keras.losses.MeanSquaredError()


@hookimpl
def register_losses(register: Any) -> None:
    register(CrossEntropy())
    register(MSE())
