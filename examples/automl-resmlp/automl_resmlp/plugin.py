"""The components of automl-resmlp and the hooks that register them (entry point `resmlp`).

`keras_objects` is imported here, at module level, on purpose: automl imports this module when it
loads the plugin, and that import is what registers the custom Keras classes, so that a saved
model that uses them reloads in any process that loaded the plugins (export, `automl predict`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from automl import (
    BaseLoss,
    BaseMetric,
    BaseModelFamily,
    BuildContext,
    float_param,
    hookimpl,
    int_param,
)
from automl.components import CLASSIFICATION
from automl_resmlp.keras_objects import Poly1CrossEntropy, ReZero


class ResidualMLP(BaseModelFamily):
    """Dense projection, then `blocks` residual blocks `x + alpha * Dense(act(Dense(x)))`."""

    name = "resmlp"
    help = "Residual MLP: a Dense projection, then ReZero-gated blocks of two Dense layers."
    params = (
        int_param("blocks", 2, "Residual blocks.", low=1, high=4, bounds=(1, 16)),
        int_param(
            "units", 64, "Width of every block.", low=16, high=128, log=True, bounds=(1, None)
        ),
        float_param("dropout", 0.0, "Dropout in each block.", low=0.0, high=0.3, bounds=(0, 0.95)),
        float_param(
            "gate_init", 0.0, "Initial gate: 0 = ReZero, 1 = plain residual.", bounds=(0, 1)
        ),
    )

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        import keras

        x = keras.layers.Flatten()(inputs) if len(ctx.input_shape) > 1 else inputs
        x = keras.layers.Dense(params["units"], kernel_regularizer=ctx.kernel_regularizer())(x)
        for _ in range(params["blocks"]):
            h = keras.layers.Dense(params["units"], kernel_regularizer=ctx.kernel_regularizer())(x)
            h = ctx.activate(h)
            h = ctx.regularize(h)
            if params["dropout"] > 0:
                h = keras.layers.Dropout(params["dropout"])(h)
            h = keras.layers.Dense(params["units"], kernel_regularizer=ctx.kernel_regularizer())(h)
            x = ReZero(params["gate_init"])([x, h])
        return ctx.activate(x)


class Poly1(BaseLoss):
    """Poly-1 cross-entropy, for binary and multiclass tasks."""

    name = "poly1"
    help = "Poly-1 cross-entropy (PolyLoss): CE + epsilon * (1 - p_t)."
    tasks = CLASSIFICATION
    params = (
        float_param(
            "epsilon",
            1.0,
            "Weight of the (1 - p_t) term; 0 = cross-entropy.",
            low=-1.0,
            high=3.0,
            bounds=(-1, None),
        ),
    )

    def build(self, task: str, n_classes: int, **params: Any) -> Any:
        return Poly1CrossEntropy(epsilon=params["epsilon"], binary=task == "binary")


class GMean(BaseMetric):
    """Geometric mean of the per-class recalls: 0 as soon as one class is never found."""

    name = "g_mean"
    help = "Geometric mean of per-class recalls (higher is better); punishes ignoring a class."
    tasks = CLASSIFICATION
    direction = "maximize"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        from sklearn.metrics import recall_score

        n_classes = y_pred.shape[-1]
        labels = list(range(n_classes))
        present = [c for c in labels if np.any(np.asarray(y_true) == c)]
        recalls = recall_score(
            y_true, np.argmax(y_pred, axis=-1), labels=present, average=None, zero_division=0
        )
        return float(np.prod(recalls) ** (1.0 / len(present))) if present else 0.0


@hookimpl
def register_model_families(register: Any) -> None:
    register(ResidualMLP())


@hookimpl
def register_losses(register: Any) -> None:
    register(Poly1())


@hookimpl
def register_metrics(register: Any) -> None:
    register(GMean())
