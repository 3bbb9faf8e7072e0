"""The `pretrained` model family: a `keras.applications` backbone with a new head, fine-tuned.

The model takes raw pixels (0-255) of any size and channel count 1 or 3: it resizes them to
`image_size`, repeats a grey channel three times and applies the backbone's own preprocessing,
all as layers inside the model (so the exported model takes what the data source gave). The
backbone starts frozen; with `trainable_layers > 0` a callback unfreezes its top layers after
`head_epochs` epochs and goes on at `fine_tune_factor` times the learning rate (see
`automl_plugins._fine_tuning`). Keras is imported when a model is built, not when the plugin loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl import hookimpl
from automl.components import (
    BaseModelFamily,
    BuildContext,
    Param,
    float_param,
    int_param,
    str_param,
)
from automl.errors import AutoMLError

BACKBONE_LAYER = "backbone"
#: YAML name -> (keras.applications constructor, its keyword arguments, the rescaling of its
#: `preprocess_input` as (scale, offset) when the model does not include it)
BACKBONES: dict[str, tuple[str, dict[str, Any], tuple[float, float] | None]] = {
    "mobilenet_v3_small": ("MobileNetV3Small", {"include_preprocessing": True}, None),
    "mobilenet_v3_large": ("MobileNetV3Large", {"include_preprocessing": True}, None),
    "mobilenet_v2": ("MobileNetV2", {}, (1 / 127.5, -1.0)),
    "efficientnet_b0": ("EfficientNetB0", {}, None),  # rescaling + normalization inside
    "resnet50_v2": ("ResNet50V2", {}, (1 / 127.5, -1.0)),
}
MIN_SIZE = 32  # the smallest input keras.applications accept without their top


@dataclass(frozen=True)
class WeightsParam(Param):
    """`imagenet`, none, or a `.h5` weights file (a path: relative to the YAML file)."""

    def check_value(self, value: Any) -> str | None:
        if value is None or value in ("imagenet", "none"):
            return None
        if isinstance(value, str) and value.endswith(".h5"):
            return None
        return (
            "expected imagenet, null (random initial weights) or the path of a .weights.h5 "
            f"file, got {value!r}"
        )


class Pretrained(BaseModelFamily):
    """A `keras.applications` backbone (global average pooling) + a Dense head."""

    name = "pretrained"
    help = (
        "Pretrained image backbone (keras.applications) with a new head: resizing and the "
        "backbone's preprocessing inside; frozen, then its top layers fine-tuned."
    )
    tasks = ("binary", "multiclass", "regression")
    input_ranks = (3,)  # images (height, width, channels)
    params = (
        str_param(
            "backbone",
            "mobilenet_v3_small",
            f"The keras.applications network: {', '.join(BACKBONES)}.",
            allowed=tuple(BACKBONES),
        ),
        WeightsParam(
            "weights",
            "str",
            "imagenet",
            "imagenet (downloaded once into $KERAS_HOME/models), null (random) or a .weights.h5 "
            "file saved from the same backbone.",
            path=True,
        ),
        int_param(
            "image_size",
            224,
            "Images are resized to image_size x image_size inside the model.",
            bounds=(MIN_SIZE, None),
        ),
        int_param(
            "trainable_layers",
            0,
            "Top backbone layers with weights (BatchNormalization aside) fine-tuned after "
            "head_epochs; 0 = a frozen feature extractor.",
            low=0,
            high=20,
            bounds=(0, None),
        ),
        int_param(
            "head_epochs",
            5,
            "Epochs that train the head alone before fine-tuning starts.",
            bounds=(0, None),
        ),
        float_param(
            "fine_tune_factor",
            0.1,
            "Learning-rate multiplier while fine-tuning.",
            bounds=(1e-6, 1),
        ),
        int_param(
            "head_units",
            128,
            "Units of the Dense layer of the head (0 = none: pooling straight to the output).",
            low=32,
            high=512,
            log=True,
            bounds=(0, None),
        ),
        float_param(
            "dropout", 0.2, "Dropout rate before the output.", low=0.0, high=0.5, bounds=(0, 0.95)
        ),
    )

    def check_input(self, input_shape: tuple[int, ...]) -> str | None:
        problem = super().check_input(input_shape)  # the rank, against `input_ranks`
        if problem is None and input_shape[-1] not in (1, 3):
            return (
                "pretrained needs images of shape (height, width, 1 or 3 channels) with pixels "
                f"0-255; got inputs of shape {input_shape}"
            )
        return problem

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        import keras

        size = params["image_size"]
        x = inputs
        if tuple(ctx.input_shape[:2]) != (size, size):
            x = keras.layers.Resizing(size, size, name="resize")(x)
        if ctx.input_shape[-1] == 1:
            x = keras.layers.Concatenate(name="grey_to_rgb")([x, x, x])
        _, _, rescale = BACKBONES[params["backbone"]]
        if rescale is not None:
            x = keras.layers.Rescaling(rescale[0], offset=rescale[1], name="preprocess")(x)
        backbone = load_backbone(params["backbone"], params["weights"], size)
        from automl_plugins._fine_tuning import unfreeze_top

        unfreeze_top(backbone, 0)  # phase 1: the head alone
        # BatchNormalization stays in inference mode, also once the top layers train
        x = backbone(x, training=False)
        if params["head_units"] > 0:
            x = keras.layers.Dense(
                params["head_units"], kernel_regularizer=ctx.kernel_regularizer()
            )(x)
            x = ctx.activate(x)
            x = ctx.regularize(x)
        if params["dropout"] > 0:
            x = keras.layers.Dropout(params["dropout"])(x)
        return x

    def callbacks(self, **params: Any) -> list[Any]:
        if params["trainable_layers"] <= 0:
            return []
        from automl_plugins._fine_tuning import FineTuning

        return [
            FineTuning(
                BACKBONE_LAYER,
                params["trainable_layers"],
                params["head_epochs"],
                params["fine_tune_factor"],
            )
        ]


def load_backbone(name: str, weights: str | None, size: int) -> Any:
    """The `keras.applications` backbone `name` without its top, with global average pooling.

    Args:
        name: a key of `BACKBONES`.
        weights: "imagenet" (Keras downloads the file once into `$KERAS_HOME/models`), None or
            "none" (random initial weights), or a `.h5` file saved from the same backbone.
        size: the input height and width.
    """
    import keras

    if name not in BACKBONES:
        raise AutoMLError(
            f"unknown backbone. Expected one of {', '.join(BACKBONES)}. Received: {name!r}"
        )
    constructor, kwargs, _ = BACKBONES[name]
    build = getattr(keras.applications, constructor)
    imagenet = weights == "imagenet"
    try:
        backbone = build(
            include_top=False,
            weights="imagenet" if imagenet else None,
            input_shape=(size, size, 3),
            pooling="avg",
            name=BACKBONE_LAYER,
            **kwargs,
        )
    except Exception as exc:
        if not imagenet:
            raise
        raise AutoMLError(
            f"pretrained: could not get the imagenet weights of {constructor} (Keras downloads "
            f"them once into $KERAS_HOME/models; no network?): {exc}. Put the file there, or set "
            "weights to a .weights.h5 file or to null"
        ) from exc
    if weights not in (None, "none", "imagenet"):
        _load_weights(backbone, str(weights), constructor)
    return backbone


def _load_weights(backbone: Any, path: str, constructor: str) -> None:
    """Weights from a `.h5` file saved from the same backbone (`backbone.save_weights`)."""
    if not Path(path).is_file():
        raise AutoMLError(f"pretrained: weights file not found: {path}")
    try:
        backbone.load_weights(path)
    except Exception as exc:
        raise AutoMLError(
            f"pretrained: {path} does not fit the {constructor} backbone (expected weights saved "
            f"from {constructor} without its top): {exc}"
        ) from exc


@hookimpl
def register_model_families(register: Any) -> None:
    register(Pretrained())
