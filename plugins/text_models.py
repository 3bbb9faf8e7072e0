"""Model families over token ids: `embedding_bag`, `embedding_cnn`, `embedding_rnn`, `transformer`.

Their inputs are token ids of shape (sequence_length,) with 0 as padding, from a text preprocessor
(`text_vectorization` with `output_mode: int`); `ctx.vocabulary_size` is the `input_dim` of their
`Embedding`. Padding is masked where the layers support it (average pooling, recurrent layers,
attention). Keras layers only; the position embedding of `transformer` is the one custom class
(`automl_plugins.text_layers.PositionEmbedding`). Keras is imported lazily, in `build`.
"""

from __future__ import annotations

from typing import Any

from automl import hookimpl
from automl.components import BaseModelFamily, BuildContext, choice_param, float_param, int_param


def _embedding_dim(default: int = 64) -> Any:
    return int_param(
        "embedding_dim",
        default,
        "Size of each token's learned vector.",
        low=16,
        high=128,
        log=True,
        bounds=(1, None),
    )


def _dropout(default: float, high: float = 0.5) -> Any:
    return float_param(
        "dropout", default, "Dropout rate of the features.", low=0.0, high=high, bounds=(0, 0.95)
    )


class TokenFamily(BaseModelFamily):
    """What the token families share: the input check and the token embedding."""

    takes_tokens = True
    #: one example is rank 1: (sequence_length,) token ids, from text_vectorization's rank-1
    #: output (`automl validate` checks the rank; `takes_tokens` asks for the text preprocessor)
    input_ranks = (1,)

    def check_input(self, input_shape: tuple[int, ...]) -> str | None:
        if len(input_shape) not in self.input_ranks:
            return (
                f"{self.name} takes token ids of shape (sequence_length,); got inputs of shape "
                f"{input_shape}. Add text_vectorization (output_mode int) for text columns"
            )
        return None

    def embed(self, inputs: Any, ctx: BuildContext, dim: int, mask: bool) -> Any:
        """Token ids -> (batch, sequence_length, dim) vectors; `mask` masks padding (id 0)."""
        import keras

        if not ctx.vocabulary_size:
            raise ValueError(
                f"{self.name} takes token ids from a text preprocessor (text_vectorization with "
                f"output_mode int). Received: vocabulary_size={ctx.vocabulary_size}"
            )
        return keras.layers.Embedding(ctx.vocabulary_size, dim, mask_zero=mask)(inputs)


class EmbeddingBag(TokenFamily):
    """Embedding, then the average (or max) over the tokens, then one Dense layer: fast."""

    name = "embedding_bag"
    help = "Token embedding + global average (or max) pooling + Dense: the fast text baseline."
    params = (
        _embedding_dim(),
        choice_param("pooling", "avg", "Pooling over the tokens: avg or max.", ("avg", "max")),
        int_param(
            "units", 64, "Units of the Dense layer.", low=16, high=128, log=True, bounds=(1, None)
        ),
        _dropout(0.2),
    )

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        import keras

        average = params["pooling"] == "avg"
        x = self.embed(inputs, ctx, params["embedding_dim"], mask=average)
        pool = keras.layers.GlobalAveragePooling1D if average else keras.layers.GlobalMaxPooling1D
        x = pool()(x)
        x = keras.layers.Dense(params["units"], kernel_regularizer=ctx.kernel_regularizer())(x)
        x = ctx.regularize(ctx.activate(x))
        return keras.layers.Dropout(params["dropout"])(x) if params["dropout"] > 0 else x


class EmbeddingCNN(TokenFamily):
    """Embedding, then blocks of Conv1D over the tokens, then global max pooling."""

    name = "embedding_cnn"
    help = "Token embedding + Conv1D blocks (n-gram detectors) + global max pooling."
    params = (
        _embedding_dim(),
        int_param(
            "filters", 64, "Filters per Conv1D.", low=16, high=128, log=True, bounds=(1, None)
        ),
        choice_param("kernel_size", 3, "Tokens each filter sees.", (3, 5)),
        int_param(
            "blocks", 1, "Conv1D blocks (max pooling between).", low=1, high=2, bounds=(1, 4)
        ),
        _dropout(0.2),
    )

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        import keras

        x = self.embed(inputs, ctx, params["embedding_dim"], mask=False)  # Conv1D has no masks
        steps = ctx.input_shape[0]
        for block in range(params["blocks"]):
            if block > 0 and steps >= 2:
                x = keras.layers.MaxPooling1D(2, padding="same")(x)
                steps = (steps + 1) // 2
            x = keras.layers.Conv1D(
                params["filters"],
                params["kernel_size"],
                padding="same",
                kernel_regularizer=ctx.kernel_regularizer(),
            )(x)
            x = ctx.regularize(ctx.activate(x))
        x = keras.layers.GlobalMaxPooling1D()(x)
        return keras.layers.Dropout(params["dropout"])(x) if params["dropout"] > 0 else x


class EmbeddingRNN(TokenFamily):
    """Embedding, then the `lstm` or `gru` family: stacked recurrent layers over the tokens."""

    name = "embedding_rnn"
    help = "Token embedding + LSTM or GRU layers (bidirectional option); padding is masked."
    params = (
        _embedding_dim(),
        choice_param("cell", "gru", "Recurrent layer: lstm or gru.", ("lstm", "gru")),
        int_param(
            "units", 32, "Units per recurrent layer.", low=16, high=128, log=True, bounds=(1, None)
        ),
        int_param("layers", 1, "Stacked recurrent layers.", low=1, high=2, bounds=(1, 4)),
        choice_param("bidirectional", True, "Read the text both ways.", (False, True)),
        _dropout(0.0),
    )

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        from automl_plugins.models import GRU, LSTM

        families = {"lstm": LSTM(), "gru": GRU()}
        if params["cell"] not in families:
            raise ValueError(f"cell must be 'lstm' or 'gru'. Received: cell={params['cell']!r}")
        x = self.embed(inputs, ctx, params["embedding_dim"], mask=True)
        # the built-in lstm / gru family over the token vectors (a Dense over the final state)
        stack = ("units", "layers", "bidirectional", "dropout")
        return families[params["cell"]].build(x, ctx, **{k: params[k] for k in stack})


class Transformer(TokenFamily):
    """A small transformer encoder: token + position embedding, self-attention blocks, pooling."""

    name = "transformer"
    help = (
        "Transformer encoder: token + learned position embedding, blocks of multi-head "
        "self-attention and a feed-forward layer, masked average pooling."
    )
    params = (
        _embedding_dim(32),
        choice_param("heads", 2, "Attention heads.", (2, 4)),
        int_param("blocks", 1, "Encoder blocks.", low=1, high=2, bounds=(1, 6)),
        int_param(
            "ff_units",
            64,
            "Units of each block's feed-forward layer.",
            low=32,
            high=128,
            log=True,
            bounds=(1, None),
        ),
        _dropout(0.1, high=0.3),
    )

    def build(self, inputs: Any, ctx: BuildContext, **params: Any) -> Any:
        import keras

        from automl_plugins.text_layers import PositionEmbedding

        dim, rate = params["embedding_dim"], params["dropout"]
        # explicit masks: real tokens (not padding) are attended to and averaged
        real = keras.ops.not_equal(inputs, 0)
        attend = keras.ops.expand_dims(real, 1)  # (batch, 1, keys)
        x = self.embed(inputs, ctx, dim, mask=False)
        x = PositionEmbedding(ctx.input_shape[0])(x)
        for _ in range(params["blocks"]):
            attention = keras.layers.MultiHeadAttention(
                params["heads"], key_dim=max(1, dim // params["heads"]), dropout=rate
            )(x, x, attention_mask=attend)
            x = keras.layers.LayerNormalization()(keras.layers.Add()([x, attention]))
            hidden = keras.layers.Dense(
                params["ff_units"], kernel_regularizer=ctx.kernel_regularizer()
            )(x)
            hidden = ctx.activate(hidden)
            hidden = keras.layers.Dense(dim, kernel_regularizer=ctx.kernel_regularizer())(hidden)
            if rate > 0:
                hidden = keras.layers.Dropout(rate)(hidden)
            x = keras.layers.LayerNormalization()(keras.layers.Add()([x, hidden]))
            x = ctx.regularize(x)
        return keras.layers.GlobalAveragePooling1D()(x, mask=real)


@hookimpl
def register_model_families(register: Any) -> None:
    for family in (EmbeddingBag(), EmbeddingCNN(), EmbeddingRNN(), Transformer()):
        register(family)
