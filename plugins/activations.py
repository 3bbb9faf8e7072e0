"""Built-in activations, each a Keras layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl import hookimpl
from automl.components import TASKS, BaseActivation, float_param

if TYPE_CHECKING:  # Keras is imported when a component builds: `automl validate` never does
    import keras


class NamedActivation(BaseActivation):
    """An activation Keras knows by name."""

    def __init__(self, name: str, help: str, default_for: tuple[str, ...] = ()) -> None:
        self.name = name  # type: ignore[misc]
        self.help = help  # type: ignore[misc]
        self.default_for = default_for  # type: ignore[misc]

    def build(self, **params: Any) -> keras.layers.Layer:
        import keras

        return keras.layers.Activation(self.name)


class LeakyRelu(BaseActivation):
    """ReLU with a small slope for negative inputs."""

    name = "leaky_relu"
    help = "Leaky ReLU: x if x > 0 else alpha * x."
    params = (
        float_param(
            "alpha", 0.2, "Slope for negative inputs.", low=0.01, high=0.3, log=True, bounds=(0, 1)
        ),
    )

    def build(self, **params: Any) -> keras.layers.Layer:
        import keras

        return keras.layers.LeakyReLU(negative_slope=params.get("alpha", 0.2))


class Elu(BaseActivation):
    """Exponential linear unit."""

    name = "elu"
    help = "ELU: x if x > 0 else alpha * (exp(x) - 1)."
    params = (float_param("alpha", 1.0, "Scale of the negative part.", bounds=(0, None)),)

    def build(self, **params: Any) -> keras.layers.Layer:
        import keras

        return keras.layers.ELU(alpha=params.get("alpha", 1.0))


@hookimpl
def register_activations(register: Any) -> None:
    register(NamedActivation("relu", "Rectified linear unit: max(x, 0).", default_for=TASKS))
    register(NamedActivation("tanh", "Hyperbolic tangent."))
    register(NamedActivation("sigmoid", "Logistic sigmoid: 1 / (1 + exp(-x))."))
    register(LeakyRelu())
    register(Elu())
    register(NamedActivation("gelu", "Gaussian error linear unit: x * Phi(x)."))
    register(NamedActivation("swish", "Swish (SiLU): x * sigmoid(x)."))
