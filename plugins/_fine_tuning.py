"""The two-phase schedule of the `pretrained` family: train the head, then fine-tune the top.

`unfreeze_top` decides which backbone layers train; `FineTuning` is the Keras callback that switches
from phase 1 (frozen backbone) to phase 2 (the top layers train at a lower learning rate) in the
middle of one `fit`, so early stopping, pruning and the score of every epoch see one run.
"""

from __future__ import annotations

from typing import Any

import keras


def tunable_layers(backbone: keras.Model) -> list[keras.layers.Layer]:
    """The backbone's layers that fine-tuning may train, bottom to top: those with weights,
    BatchNormalization excluded (it stays frozen, in inference mode, as Keras recommends)."""
    return [
        layer
        for layer in backbone.layers
        if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)
    ]


def unfreeze_top(backbone: keras.Model, count: int) -> list[str]:
    """Make the top `count` tunable layers trainable and every other layer frozen.

    Returns the names of the trainable layers (none for `count=0`: a frozen feature extractor).
    """
    backbone.trainable = count > 0  # Keras propagates the flag to every sublayer
    if count <= 0:
        return []
    for layer in backbone.layers:
        layer.trainable = False
    top = tunable_layers(backbone)[-count:]
    for layer in top:
        layer.trainable = True
    return [layer.name for layer in top]


class FineTuning(keras.callbacks.Callback):
    """At epoch `head_epochs`, unfreeze the top `layers` of the backbone and lower the rate.

    The switch replaces the optimizer by a fresh copy of itself (same class and settings: its
    state then covers the newly trainable weights) and rebuilds the train step. From then on every
    epoch runs at `lr_factor` times the learning rate the optimizer and its schedule set: the
    factor is applied when an epoch begins (after a schedule has set the rate) and removed when it
    ends (so a plateau schedule scales the unlowered rate).

    Args:
        backbone: the name of the backbone layer in the model.
        layers: how many tunable layers to unfreeze (see `tunable_layers`).
        head_epochs: epochs of phase 1 (head only).
        lr_factor: the learning-rate multiplier of phase 2.
    """

    def __init__(self, backbone: str, layers: int, head_epochs: int, lr_factor: float) -> None:
        super().__init__()
        self.backbone, self.layers = backbone, layers
        self.head_epochs, self.lr_factor = head_epochs, lr_factor
        #: the epoch phase 2 began (None while the backbone is frozen)
        self.started_at: int | None = None
        self._scaled = False

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch < self.head_epochs or self.layers <= 0:
            return
        if self.started_at is None:
            self._unfreeze()
            self.started_at = epoch
        self._scale(self.lr_factor)
        self._scaled = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._scaled:
            self._scale(1.0 / self.lr_factor)
            self._scaled = False

    def _unfreeze(self) -> None:
        model = self.model
        unfreeze_top(model.get_layer(self.backbone), self.layers)
        old = model.optimizer
        model.optimizer = type(old).from_config(old.get_config())
        model.optimizer.build(model.trainable_variables)
        model.make_train_function(force=True)

    def _scale(self, factor: float) -> None:
        optimizer = self.model.optimizer
        rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        optimizer.learning_rate = rate * factor
