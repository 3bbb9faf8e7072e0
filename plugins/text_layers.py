"""The custom Keras classes of the text components: import this module before loading a text model.

`automl_plugins.keras_objects` imports it, and `automl.load` imports both for you. A plain Keras
user loading an exported text model writes (`model.json` lists this module under
`keras_imports`)::

    import automl_plugins.text_layers  # registers TextVectorizer and PositionEmbedding
    model = keras.saving.load_model("best/model.keras")

Both are registered with `keras.saving.register_keras_serializable(package="automl")`. They need
string tensors, which only the TensorFlow backend has (the text components refuse the others).
"""

from __future__ import annotations

from typing import Any

import keras


def join_columns(inputs: Any) -> Any:
    """A (rows, columns) string tensor -> one string per row, the columns joined by a space."""
    import tensorflow as tf  # string tensors exist only in TensorFlow

    tensor = inputs if isinstance(inputs, tf.Tensor) else tf.convert_to_tensor(inputs)
    if tensor.shape.rank == 2 and tensor.shape[-1] == 1:
        return tensor[:, 0]
    if tensor.shape.rank == 2:
        return tf.strings.reduce_join(tensor, axis=-1, separator=" ")
    return tensor


@keras.saving.register_keras_serializable(package="automl")
class TextVectorizer(keras.layers.TextVectorization):
    """Keras' `TextVectorization` over one or more text columns: raw strings in, numbers out.

    The columns of a (rows, columns) string input are joined with a space, then standardized
    (lower case, no punctuation), split on whitespace, turned into n-grams and looked up in the
    vocabulary adapted on the training split (`adapt`). Everything else, its arguments, its
    vocabulary stored with the model and its outputs, is `TextVectorization`'s.
    """

    def adapt(self, data: Any, batch_size: Any = None, steps: Any = None) -> None:
        super().adapt(join_columns(data), batch_size=batch_size, steps=steps)

    def call(self, inputs: Any) -> Any:
        return super().call(join_columns(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return super().compute_output_shape(tuple(input_shape)[:1])  # the columns are joined


@keras.saving.register_keras_serializable(package="automl")
class PositionEmbedding(keras.layers.Layer):
    """Add a learned vector per position to a (batch, sequence_length, dim) input; masks pass.

    Args:
        sequence_length: the longest sequence (the number of position vectors).
    """

    def __init__(self, sequence_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        self.positions = self.add_weight(
            shape=(self.sequence_length, int(input_shape[-1])),
            initializer="glorot_uniform",
            name="positions",
        )

    def call(self, inputs: Any) -> Any:
        length = keras.ops.shape(inputs)[1]
        return inputs + keras.ops.expand_dims(self.positions[:length], 0)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sequence_length": self.sequence_length}
