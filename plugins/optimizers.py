"""Built-in optimizers, each with a learning-rate schedule and gradient clipping as parameters.

Every optimizer accepts `schedule` (constant, exponential, cosine, plateau), `decay_rate`,
`decay_epochs`, `plateau_patience` and `clipnorm`. Schedules run per epoch through Keras callbacks
(`callbacks()`), so they work with any backend and combine with early stopping.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from automl import hookimpl
from automl.components import (
    TASKS,
    BaseOptimizer,
    Param,
    bool_param,
    float_param,
    int_param,
    str_param,
)

if TYPE_CHECKING:  # Keras is imported when a component builds: `automl validate` never does
    import keras

SCHEDULES = ("constant", "exponential", "cosine", "plateau")


def _lr(default: float, low: float, high: float) -> Param:
    return float_param(
        "learning_rate",
        default,
        "Initial step size.",
        low=low,
        high=high,
        log=True,
        bounds=(0, None),
    )


COMMON: tuple[Param, ...] = (
    str_param(
        "schedule",
        "constant",
        "Learning-rate schedule: constant, exponential (lr * decay_rate ** (epoch / "
        "decay_epochs)), cosine (to 0 over decay_epochs), plateau (lr * decay_rate when "
        "val_loss stalls).",
        allowed=SCHEDULES,
    ),
    float_param(
        "decay_rate", 0.5, "Factor of the exponential and plateau schedules.", bounds=(0, 1)
    ),
    int_param(
        "decay_epochs",
        10,
        "Epochs of one exponential decay step / of the cosine decay.",
        bounds=(1, None),
    ),
    int_param(
        "plateau_patience",
        2,
        "Epochs without val_loss improvement before a plateau cut.",
        bounds=(0, None),
    ),
    float_param(
        "clipnorm", 0.0, "Clip each gradient to this norm (0 = no clipping).", bounds=(0, None)
    ),
)


def scheduled_lr(
    epoch: int, lr0: float, schedule: str, decay_rate: float, decay_epochs: int
) -> float:
    """The learning rate of `epoch` (0-based) under an epoch-wise schedule."""
    if schedule == "exponential":
        return lr0 * decay_rate ** (epoch / decay_epochs)
    if schedule == "cosine":
        return lr0 * 0.5 * (1.0 + math.cos(math.pi * min(epoch, decay_epochs) / decay_epochs))
    return lr0


class ScheduledOptimizer(BaseOptimizer):
    """Shared schedule and clipping handling; subclasses give `make(lr, clip, **params)`."""

    own_params: tuple[Param, ...] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls.params = (*cls.own_params, *COMMON)

    def make(self, lr: float, clip: dict[str, Any], **params: Any) -> Any:
        raise NotImplementedError

    def build(self, **params: Any) -> keras.optimizers.Optimizer:
        if params["schedule"] not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(SCHEDULES)}. "
                f"Received: schedule={params['schedule']!r}"
            )
        clip = {"clipnorm": params["clipnorm"]} if params["clipnorm"] > 0 else {}
        rest = {k: v for k, v in params.items() if k != "learning_rate"}
        return self.make(float(params["learning_rate"]), clip, **rest)

    def callbacks(self, **params: Any) -> list[keras.callbacks.Callback]:
        import keras

        schedule, lr0 = params["schedule"], float(params["learning_rate"])
        if schedule == "plateau":
            return [
                keras.callbacks.ReduceLROnPlateau(
                    monitor="val_loss",
                    factor=params["decay_rate"],
                    patience=params["plateau_patience"],
                    min_lr=lr0 * 1e-3,
                )
            ]
        if schedule in ("exponential", "cosine"):
            rate, steps = params["decay_rate"], params["decay_epochs"]
            return [
                keras.callbacks.LearningRateScheduler(
                    lambda epoch, lr: scheduled_lr(epoch, lr0, schedule, rate, steps)
                )
            ]
        return []


class SGD(ScheduledOptimizer):
    """Plain stochastic gradient descent (momentum off unless given)."""

    name = "sgd"
    help = "Stochastic gradient descent."
    own_params = (
        _lr(0.01, 1e-3, 1e-1),
        float_param("momentum", 0.0, "Momentum factor.", bounds=(0, 1)),
        bool_param("nesterov", False, "Use Nesterov momentum."),
    )

    def make(self, lr: float, clip: dict[str, Any], **params: Any) -> Any:
        import keras

        return keras.optimizers.SGD(
            learning_rate=lr,
            momentum=params["momentum"],
            nesterov=params["nesterov"],
            **clip,
        )


class Momentum(SGD):
    """SGD with (Nesterov) momentum searched by default."""

    name = "momentum"
    help = "SGD with momentum (Nesterov by default)."
    own_params = (
        _lr(0.01, 1e-3, 1e-1),
        float_param("momentum", 0.9, "Momentum factor.", low=0.5, high=0.99, bounds=(0, 1)),
        bool_param("nesterov", True, "Use Nesterov momentum."),
    )


class RMSprop(ScheduledOptimizer):
    """RMSprop."""

    name = "rmsprop"
    help = "RMSprop: divide by a moving average of squared gradients."
    own_params = (
        _lr(1e-3, 1e-4, 1e-2),
        float_param("rho", 0.9, "Discount of the squared-gradient average.", bounds=(0, 1)),
    )

    def make(self, lr: float, clip: dict[str, Any], **params: Any) -> Any:
        import keras

        return keras.optimizers.RMSprop(learning_rate=lr, rho=params["rho"], **clip)


class Adam(ScheduledOptimizer):
    """Adam."""

    name = "adam"
    help = "Adam: adaptive moment estimation."
    default_for = TASKS
    own_params = (_lr(1e-3, 1e-4, 1e-2),)

    def make(self, lr: float, clip: dict[str, Any], **params: Any) -> Any:
        import keras

        return keras.optimizers.Adam(learning_rate=lr, **clip)


class AdamW(ScheduledOptimizer):
    """Adam with decoupled weight decay."""

    name = "adamw"
    help = "AdamW: Adam with decoupled weight decay."
    own_params = (
        _lr(1e-3, 1e-4, 1e-2),
        float_param(
            "weight_decay",
            4e-3,
            "Decoupled weight decay.",
            low=1e-5,
            high=1e-1,
            log=True,
            bounds=(0, None),
        ),
    )

    def make(self, lr: float, clip: dict[str, Any], **params: Any) -> Any:
        import keras

        return keras.optimizers.AdamW(learning_rate=lr, weight_decay=params["weight_decay"], **clip)


class Nadam(ScheduledOptimizer):
    """Adam with Nesterov momentum."""

    name = "nadam"
    help = "Nadam: Adam with Nesterov momentum."
    own_params = (_lr(1e-3, 1e-4, 1e-2),)

    def make(self, lr: float, clip: dict[str, Any], **params: Any) -> Any:
        import keras

        return keras.optimizers.Nadam(learning_rate=lr, **clip)


@hookimpl
def register_optimizers(register: Any) -> None:
    for opt in (SGD(), Momentum(), RMSprop(), Adam(), AdamW(), Nadam()):
        register(opt)
