"""Built-in regularizers: a weight penalty or layers after each hidden block."""

from __future__ import annotations

from typing import Any

import keras

from automl import hookimpl
from automl.components import BaseRegularizer, float_param


class NoRegularizer(BaseRegularizer):
    """No regularization (a choice to compete with the others)."""

    name = "none"
    help = "No regularization."


class L2(BaseRegularizer):
    """L2 weight penalty on Dense and Conv kernels."""

    name = "l2"
    help = "L2 weight penalty: factor * sum(w**2)."
    params = (float_param("factor", 1e-4, "Penalty factor.", low=1e-6, high=1e-2, log=True, bounds=(0, None)),)

    def kernel_regularizer(self, **params: Any) -> Any:
        return keras.regularizers.L2(params["factor"])


class Dropout(BaseRegularizer):
    """Dropout after each hidden block."""

    name = "dropout"
    help = "Dropout layer after each hidden block."
    params = (float_param("rate", 0.2, "Fraction of units dropped.", low=0.0, high=0.5, bounds=(0, 0.95)),)

    def layers(self, **params: Any) -> list[keras.layers.Layer]:
        return [keras.layers.Dropout(params["rate"])]


@hookimpl
def register_regularizers(register: Any) -> None:
    register(NoRegularizer())
    register(L2())
    register(Dropout())
