"""Built-in regularizers: a weight penalty or layers after each hidden block.

They combine: `regularizers: [l2, dropout, batch_norm]` applies an L2 penalty to every kernel and
inserts Dropout and BatchNormalization after each hidden block. Only one weight penalty applies at a
time (use `l1_l2` for both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl import hookimpl
from automl.components import BaseRegularizer, float_param

if TYPE_CHECKING:  # Keras is imported when a component builds: `automl validate` never does
    import keras


def _factor(name: str, default: float, what: str) -> Any:
    return float_param(name, default, what, low=1e-6, high=1e-2, log=True, bounds=(0, None))


class NoRegularizer(BaseRegularizer):
    """No regularization (a choice to compete with the others)."""

    name = "none"
    help = "No regularization."


class L1(BaseRegularizer):
    """L1 weight penalty on Dense, Conv and recurrent kernels."""

    name = "l1"
    help = "L1 weight penalty: factor * sum(|w|)."
    params = (_factor("factor", 1e-5, "Penalty factor."),)

    def kernel_regularizer(self, **params: Any) -> Any:
        import keras

        return keras.regularizers.L1(params["factor"])


class L2(BaseRegularizer):
    """L2 weight penalty on Dense, Conv and recurrent kernels."""

    name = "l2"
    help = "L2 weight penalty: factor * sum(w**2)."
    params = (_factor("factor", 1e-4, "Penalty factor."),)

    def kernel_regularizer(self, **params: Any) -> Any:
        import keras

        return keras.regularizers.L2(params["factor"])


class L1L2(BaseRegularizer):
    """L1 and L2 weight penalties together."""

    name = "l1_l2"
    help = "L1 + L2 weight penalty: l1 * sum(|w|) + l2 * sum(w**2)."
    params = (_factor("l1", 1e-5, "L1 factor."), _factor("l2", 1e-4, "L2 factor."))

    def kernel_regularizer(self, **params: Any) -> Any:
        import keras

        return keras.regularizers.L1L2(l1=params["l1"], l2=params["l2"])


class Dropout(BaseRegularizer):
    """Dropout after each hidden block."""

    name = "dropout"
    help = "Dropout layer after each hidden block."
    params = (
        float_param("rate", 0.2, "Fraction of units dropped.", low=0.0, high=0.5, bounds=(0, 0.95)),
    )

    def layers(self, **params: Any) -> list[keras.layers.Layer]:
        import keras

        return [keras.layers.Dropout(params["rate"])]


class BatchNorm(BaseRegularizer):
    """Batch normalization after each hidden block."""

    name = "batch_norm"
    help = "BatchNormalization after each hidden block."
    params = (float_param("momentum", 0.99, "Moving-average momentum.", bounds=(0, 1)),)

    def layers(self, **params: Any) -> list[keras.layers.Layer]:
        import keras

        return [keras.layers.BatchNormalization(momentum=params["momentum"])]


class GaussianNoise(BaseRegularizer):
    """Additive Gaussian noise after each hidden block (training only)."""

    name = "gaussian_noise"
    help = "GaussianNoise after each hidden block; active in training only."
    params = (
        float_param(
            "stddev",
            0.1,
            "Noise standard deviation.",
            low=0.01,
            high=0.5,
            log=True,
            bounds=(0, None),
        ),
    )

    def layers(self, **params: Any) -> list[keras.layers.Layer]:
        import keras

        return [keras.layers.GaussianNoise(params["stddev"])]


@hookimpl
def register_regularizers(register: Any) -> None:
    for reg in (NoRegularizer(), L1(), L2(), L1L2(), Dropout(), BatchNorm(), GaussianNoise()):
        register(reg)
