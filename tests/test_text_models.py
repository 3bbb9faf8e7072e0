"""The families over token ids (plugins/text_models.py): inputs, masking of padding, structure.

Each is also trained, saved and reloaded through `run_trial` in tests/plugins/ and passes
`automl.testing.check_component` in tests/testing/.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest

from automl.components import BuildContext

TOKENS = np.asarray([[5, 3, 7, 0, 0, 0], [2, 0, 0, 0, 0, 0]], dtype="int64")  # 0 = padding


def family_model(catalog: Any, name: str, **params: Any) -> keras.Model:
    """The family's body on token ids of length 6 from a vocabulary of 10."""
    family = catalog["model_family"].get(name)
    keras.utils.clear_session()
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(6,), dtype="int64")
    ctx = BuildContext(
        task="binary",
        n_outputs=1,
        input_shape=(6,),
        make_activation=lambda: keras.layers.Activation("relu"),
        make_kernel_regularizer=lambda: None,
        vocabulary_size=10,
    )
    return keras.Model(inputs, family.build(inputs, ctx, **{**family.defaults(), **params}))


def embedding(model: keras.Model) -> Any:
    return next(layer for layer in model.layers if isinstance(layer, keras.layers.Embedding))


@pytest.mark.parametrize("name", ["embedding_bag", "embedding_cnn", "embedding_rnn", "transformer"])
def test_token_families_take_token_ids_only(catalog: Any, name: str) -> None:
    family = catalog["model_family"].get(name)
    assert family.takes_tokens and family.check_input((40,)) is None
    assert family.check_input((8, 8, 1)) == (
        f"{name} takes token ids of shape (sequence_length,); got inputs of shape (8, 8, 1). "
        "Add text_vectorization (output_mode int) for text columns"
    )
    assert embedding(family_model(catalog, name)).input_dim == 10  # ctx.vocabulary_size


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("embedding_bag", {"pooling": "avg"}),
        ("embedding_rnn", {"cell": "lstm", "layers": 2}),
        ("transformer", {"blocks": 2, "dropout": 0.0}),
    ],
)
def test_padding_is_masked(catalog: Any, name: str, params: dict[str, Any]) -> None:
    """The vector of the padding id does not change the features of any row."""
    model = family_model(catalog, name, **params)
    before = np.asarray(model(TOKENS))
    table = embedding(model).embeddings
    values = np.asarray(table).copy()
    values[0] = 50.0  # the padding id's vector
    table.assign(values)
    np.testing.assert_allclose(np.asarray(model(TOKENS)), before, atol=1e-5)


def test_embedding_bag_averages_the_vectors_of_the_tokens(catalog: Any) -> None:
    """avg pooling is the mean of the real tokens' vectors (padding left out), then Dense + ReLU."""
    model = family_model(catalog, "embedding_bag", pooling="avg", dropout=0.0, units=4)
    vectors = np.asarray(embedding(model).embeddings)
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    kernel, bias = (np.asarray(w) for w in dense.weights)
    means = np.stack([vectors[[5, 3, 7]].mean(axis=0), vectors[[2]].mean(axis=0)])
    np.testing.assert_allclose(
        np.asarray(model(TOKENS)), np.maximum(means @ kernel + bias, 0.0), atol=1e-6
    )


@pytest.mark.parametrize(("cell", "layer"), [("lstm", "LSTM"), ("gru", "GRU")])
def test_embedding_rnn_stacks_the_chosen_cell(catalog: Any, cell: str, layer: str) -> None:
    model = family_model(catalog, "embedding_rnn", cell=cell, layers=2, bidirectional=True)
    wrapped = [la for la in model.layers if isinstance(la, keras.layers.Bidirectional)]
    assert [type(la.forward_layer).__name__ for la in wrapped] == [layer, layer]
    assert [la.forward_layer.return_sequences for la in wrapped] == [True, False]
    single = family_model(catalog, "embedding_rnn", cell=cell, layers=1, bidirectional=False)
    assert [type(la).__name__ for la in single.layers if isinstance(la, keras.layers.RNN)] == [
        layer
    ]


def test_transformer_has_a_position_embedding_and_one_attention_per_block(catalog: Any) -> None:
    model = family_model(catalog, "transformer", blocks=2, heads=4, embedding_dim=16)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("MultiHeadAttention") == 2
    assert kinds.count("PositionEmbedding") == 1
    attention = next(la for la in model.layers if isinstance(la, keras.layers.MultiHeadAttention))
    assert (attention.num_heads, attention.key_dim) == (4, 4)
    positions = next(la for la in model.layers if type(la).__name__ == "PositionEmbedding")
    assert tuple(positions.positions.shape) == (6, 16)
    assert model.output.shape == (None, 16)
