"""Built-in model families: MLP, 2-D and 1-D CNNs, and recurrent networks (the core adds the head).

Each family applies the chosen activation, the weight penalty (`kernel_regularizer`) and the layer
regularizers (dropout, batch norm, noise) after each hidden block, and checks its input shape.
"""

from __future__ import annotations

from typing import Any

from automl import hookimpl
from automl.components import BaseModelFamily, BuildContext, choice_param, float_param, int_param


class MLP(BaseModelFamily):
    """Fully connected layers of equal width; any input is flattened first."""

    name = "mlp"
    help = "Multi-layer perceptron: Dense blocks with the chosen activation and regularizers."
    params = (
        int_param("layers", 2, "Number of hidden Dense layers.", low=1, high=3, bounds=(1, None)),
        int_param(
            "units", 128, "Units per hidden layer.", low=16, high=512, log=True, bounds=(1, None)
        ),
        float_param(
            "dropout",
            0.0,
            "Dropout rate after each hidden layer.",
            low=0.0,
            high=0.5,
            bounds=(0, 0.95),
        ),
    )

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        import keras

        x = keras.layers.Flatten()(inputs) if len(ctx.input_shape) > 1 else inputs
        for _ in range(params["layers"]):
            x = keras.layers.Dense(params["units"], kernel_regularizer=ctx.kernel_regularizer())(x)
            x = ctx.activate(x)
            x = ctx.regularize(x)
            if params["dropout"] > 0:
                x = keras.layers.Dropout(params["dropout"])(x)
        return x


class CNN(BaseModelFamily):
    """2-D convolutional network: blocks of Conv-Pool, then Dense-Dropout."""

    name = "cnn"
    input_ranks = (3,)
    help = (
        "2-D CNN: `blocks` x (Conv2D + pooling), filters doubling per block, then Dense + Dropout."
    )
    params = (
        int_param("blocks", 2, "Conv + pool blocks.", low=1, high=3, bounds=(1, 6)),
        int_param(
            "filters",
            32,
            "Filters of the first block (doubled per block).",
            low=16,
            high=64,
            log=True,
            bounds=(1, None),
        ),
        choice_param("kernel_size", 3, "Convolution kernel size.", choices=(3, 5)),
        choice_param(
            "pooling", "max", "Pooling after each block: max or avg.", choices=("max", "avg")
        ),
        int_param(
            "dense_units",
            128,
            "Units of the Dense layer after the blocks.",
            low=32,
            high=256,
            log=True,
            bounds=(1, None),
        ),
        float_param(
            "dropout", 0.3, "Dropout rate before the output.", low=0.0, high=0.5, bounds=(0, 0.95)
        ),
    )

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        import keras

        if params["pooling"] not in ("max", "avg"):
            raise ValueError(
                f"pooling must be 'max' or 'avg'. Received: pooling={params['pooling']!r}"
            )
        pool_cls = (
            keras.layers.MaxPooling2D
            if params["pooling"] == "max"
            else keras.layers.AveragePooling2D
        )
        x = inputs
        height, width = ctx.input_shape[0], ctx.input_shape[1]
        for block in range(params["blocks"]):
            x = keras.layers.Conv2D(
                params["filters"] * 2**block,
                params["kernel_size"],
                padding="same",
                kernel_regularizer=ctx.kernel_regularizer(),
            )(x)
            x = ctx.activate(x)
            x = ctx.regularize(x)
            if min(height, width) >= 2:
                x = pool_cls(2, padding="same")(x)
                height, width = (height + 1) // 2, (width + 1) // 2
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(params["dense_units"], kernel_regularizer=ctx.kernel_regularizer())(
            x
        )
        x = ctx.activate(x)
        if params["dropout"] > 0:
            x = keras.layers.Dropout(params["dropout"])(x)
        return x


class CNN1D(BaseModelFamily):
    """1-D convolutional network over sequences: blocks of Conv1D-Pool, then global pooling."""

    name = "cnn1d"
    input_ranks = (2,)
    help = "1-D CNN: `blocks` x (Conv1D + pooling), filters doubling per block, global pooling."
    params = (
        int_param("blocks", 2, "Conv1D + pool blocks.", low=1, high=3, bounds=(1, 6)),
        int_param(
            "filters",
            32,
            "Filters of the first block (doubled per block).",
            low=8,
            high=64,
            log=True,
            bounds=(1, None),
        ),
        choice_param("kernel_size", 3, "Convolution kernel size.", choices=(3, 5)),
        choice_param("pooling", "max", "Pooling: max or avg.", choices=("max", "avg")),
        float_param(
            "dropout", 0.2, "Dropout rate before the output.", low=0.0, high=0.5, bounds=(0, 0.95)
        ),
    )

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        import keras

        if params["pooling"] not in ("max", "avg"):
            raise ValueError(
                f"pooling must be 'max' or 'avg'. Received: pooling={params['pooling']!r}"
            )
        pool_cls = (
            keras.layers.MaxPooling1D
            if params["pooling"] == "max"
            else keras.layers.AveragePooling1D
        )
        x, steps = inputs, ctx.input_shape[0]
        for block in range(params["blocks"]):
            x = keras.layers.Conv1D(
                params["filters"] * 2**block,
                params["kernel_size"],
                padding="same",
                kernel_regularizer=ctx.kernel_regularizer(),
            )(x)
            x = ctx.activate(x)
            x = ctx.regularize(x)
            if steps >= 2:
                x = pool_cls(2, padding="same")(x)
                steps = (steps + 1) // 2
        pool = (
            keras.layers.GlobalMaxPooling1D
            if params["pooling"] == "max"
            else keras.layers.GlobalAveragePooling1D
        )
        x = pool()(x)
        if params["dropout"] > 0:
            x = keras.layers.Dropout(params["dropout"])(x)
        return x


class Recurrent(BaseModelFamily):
    """Stacked recurrent layers (optionally bidirectional); the last returns its final state."""

    layer_name = ""
    input_ranks = (2,)
    params = (
        int_param(
            "units", 32, "Units per recurrent layer.", low=8, high=128, log=True, bounds=(1, None)
        ),
        int_param("layers", 1, "Stacked recurrent layers.", low=1, high=2, bounds=(1, 4)),
        choice_param("bidirectional", False, "Read the sequence both ways.", choices=(False, True)),
        float_param(
            "dropout",
            0.0,
            "Dropout rate after each recurrent layer.",
            low=0.0,
            high=0.5,
            bounds=(0, 0.95),
        ),
    )

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        import keras

        cell_cls = getattr(keras.layers, self.layer_name)
        x = inputs
        for i in range(params["layers"]):
            last = i == params["layers"] - 1
            layer = cell_cls(
                params["units"],
                return_sequences=not last,
                kernel_regularizer=ctx.kernel_regularizer(),
            )
            if params["bidirectional"]:
                layer = keras.layers.Bidirectional(layer)
            x = layer(x)
            x = ctx.regularize(x)
            if params["dropout"] > 0:
                x = keras.layers.Dropout(params["dropout"])(x)
        # the chosen activation acts on a Dense layer over the final state (cells keep tanh)
        x = keras.layers.Dense(params["units"], kernel_regularizer=ctx.kernel_regularizer())(x)
        return ctx.activate(x)


class SimpleRNN(Recurrent):
    name = "simple_rnn"
    help = "Fully connected recurrent network (SimpleRNN layers)."
    layer_name = "SimpleRNN"


class LSTM(Recurrent):
    name = "lstm"
    help = "Long short-term memory network (LSTM layers)."
    layer_name = "LSTM"


class GRU(Recurrent):
    name = "gru"
    help = "Gated recurrent unit network (GRU layers)."
    layer_name = "GRU"


@hookimpl
def register_model_families(register: Any) -> None:
    for family in (MLP(), CNN(), CNN1D(), SimpleRNN(), LSTM(), GRU()):
        register(family)
