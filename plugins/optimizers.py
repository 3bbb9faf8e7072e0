"""Built-in optimizers."""

from __future__ import annotations

from typing import Any

import keras

from automl import hookimpl
from automl.components import BaseOptimizer, bool_param, float_param


class SGD(BaseOptimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum."""

    name = "sgd"
    help = "SGD with momentum."
    params = (
        float_param("learning_rate", 0.01, "Step size.", low=1e-3, high=1e-1, log=True, bounds=(0, None)),
        float_param("momentum", 0.9, "Momentum factor.", low=0.0, high=0.99, bounds=(0, 1)),
        bool_param("nesterov", False, "Use Nesterov momentum."),
    )

    def build(self, **params: Any) -> keras.optimizers.Optimizer:
        return keras.optimizers.SGD(
            learning_rate=params["learning_rate"], momentum=params["momentum"], nesterov=params["nesterov"]
        )


class Adam(BaseOptimizer):
    """Adam."""

    name = "adam"
    help = "Adam: adaptive moment estimation."
    params = (float_param("learning_rate", 1e-3, "Step size.", low=1e-4, high=1e-2, log=True, bounds=(0, None)),)

    def build(self, **params: Any) -> keras.optimizers.Optimizer:
        return keras.optimizers.Adam(learning_rate=params["learning_rate"])


@hookimpl
def register_optimizers(register: Any) -> None:
    register(SGD())
    register(Adam())
