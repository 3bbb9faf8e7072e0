"""Custom Keras objects, registered so that `keras.saving.load_model` finds them by name.

Every class is saved in `model.keras` as `automl_resmlp>ClassName`; loading the model needs this
module imported, which automl does for you when the package is installed (entry point `resmlp`).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

PACKAGE = "automl_resmlp"


@keras.saving.register_keras_serializable(package=PACKAGE)
class ReZero(keras.layers.Layer):
    """Residual connection with a learned gate: `x + alpha * h`, alpha starting at `init`.

    ReZero (Bachlechner et al., 2020) starts every block as the identity (alpha = 0), which
    trains deep residual stacks without normalization layers.

    Args:
        init: initial value of the gate alpha. Defaults to `0.0`.
    """

    def __init__(self, init: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.init = float(init)

    def build(self, input_shape: Any) -> None:
        self.alpha = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(self.init), name="alpha"
        )

    def call(self, inputs: list[Any]) -> Any:
        x, h = inputs
        return x + self.alpha * h

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "init": self.init}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Poly1CrossEntropy(keras.losses.Loss):
    """Poly-1 cross-entropy: `CE + epsilon * (1 - p_t)` (Leng et al., 2022, "PolyLoss").

    Takes class indices and probabilities (softmax output, shape `(n, k)`), or for a binary task
    0/1 targets and the sigmoid output (shape `(n, 1)`).

    Args:
        epsilon: weight of the first polynomial term; 0 is plain cross-entropy. Defaults to `1.0`.
        binary: targets are 0/1 and predictions one sigmoid column. Defaults to `False`.
    """

    def __init__(
        self,
        epsilon: float = 1.0,
        binary: bool = False,
        name: str = "poly1_crossentropy",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.epsilon = float(epsilon)
        self.binary = bool(binary)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        eps = keras.config.epsilon()
        y_pred = ops.clip(ops.convert_to_tensor(y_pred), eps, 1.0 - eps)
        if self.binary:
            y = ops.cast(ops.reshape(y_true, (-1,)), y_pred.dtype)
            p = ops.reshape(y_pred, (-1,))
            p_t = y * p + (1.0 - y) * (1.0 - p)
        else:
            labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
            p_t = ops.sum(ops.one_hot(labels, ops.shape(y_pred)[-1]) * y_pred, axis=-1)
        return -ops.log(p_t) + self.epsilon * (1.0 - p_t)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon, "binary": self.binary}
