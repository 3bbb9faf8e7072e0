"""automl's own Keras classes, in one module: import it once and `keras.saving.load_model` loads
any model automl exported.

    import automl_plugins.keras_objects  # registers the classes below with Keras
    import keras

    model = keras.saving.load_model("best/model.keras")

`automl.load` imports it itself. It also imports `automl_plugins.text_layers`, the text
components' classes. The built-in plugins build these objects and import this module
only then, so that `automl validate` and `automl space` never import Keras. Every class is
registered under the package name `automl` (`automl>FocalCrossentropy`), the name saved files
record.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

# the text components' classes (TextVectorizer, PositionEmbedding) live in their own module:
# importing this one registers them too
import automl_plugins.text_layers  # noqa: F401
from automl_plugins.preprocessors import MISSING_MARKERS


def text_missing(tensor: Any) -> Any:
    """A boolean TF tensor: which cells of a string tensor are missing."""
    import tensorflow as tf

    cells = tf.strings.lower(tf.strings.strip(tensor))
    hits = [tf.equal(cells, marker) for marker in MISSING_MARKERS]
    return tf.reduce_any(tf.stack(hits, axis=0), axis=0)


# ------------------------------------------------------------------------------------ losses
@keras.saving.register_keras_serializable(package="automl")
class SparseCategoricalCrossentropyLS(keras.losses.Loss):
    """Categorical cross-entropy on class-index targets, with label smoothing.

    Keras' SparseCategoricalCrossentropy has no `label_smoothing`: the targets are one-hot encoded
    here, smoothed to `y * (1 - s) + s / k`, and passed to categorical cross-entropy.

    Args:
        label_smoothing: amount of smoothing in [0, 1). Defaults to `0.0`.
    """

    def __init__(
        self,
        label_smoothing: float = 0.0,
        name: str = "sparse_categorical_crossentropy_ls",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        n_classes = y_pred.shape[-1]
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        one_hot = ops.one_hot(labels, n_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, label_smoothing=self.label_smoothing
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="automl")
class FocalCrossentropy(keras.losses.Loss):
    """Focal loss for binary (sigmoid, one output) and multiclass (softmax, index targets) models.

    loss = -alpha_t * (1 - p_t) ** gamma * log(p_t), where p_t is the probability of the true
    class. With `class_balancing=False` alpha_t is 1, so `gamma=0` is exactly cross-entropy. With
    balancing, alpha_t is `alpha` for the positive class and `1 - alpha` for the negative one
    (binary), or `alpha` for every class (multiclass), as in Keras' focal losses.

    Args:
        gamma: focusing parameter >= 0. Defaults to `2.0`.
        alpha: class-balancing weight in [0, 1]. Defaults to `0.25`.
        class_balancing: apply `alpha`. Defaults to `False`.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float = 0.25,
        class_balancing: bool = False,
        name: str = "focal_crossentropy",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.class_balancing = bool(class_balancing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        eps = keras.backend.epsilon()
        y_pred = ops.clip(y_pred, eps, 1.0 - eps)
        if y_pred.shape[-1] == 1:  # binary: sigmoid output, targets 0/1
            y = ops.cast(ops.reshape(y_true, ops.shape(y_pred)), y_pred.dtype)
            p_t = y * y_pred + (1.0 - y) * (1.0 - y_pred)
            alpha_t = y * self.alpha + (1.0 - y) * (1.0 - self.alpha)
        else:  # multiclass: softmax output, class-index targets
            labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
            one_hot = ops.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)
            p_t = ops.sum(one_hot * y_pred, axis=-1, keepdims=True)
            alpha_t = ops.full_like(p_t, self.alpha)
        loss = -ops.power(1.0 - p_t, self.gamma) * ops.log(p_t)
        if self.class_balancing:
            loss = alpha_t * loss
        return ops.mean(loss, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "gamma": self.gamma,
            "alpha": self.alpha,
            "class_balancing": self.class_balancing,
        }


@keras.saving.register_keras_serializable(package="automl")
class HuberWithDelta(keras.losses.Huber):
    """`keras.losses.Huber` whose config keeps `delta` (Keras' own drops it on save)."""

    def __init__(self, delta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(delta=delta, **kwargs)
        self.delta = float(delta)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "delta": self.delta}


# ------------------------------------------------------------------------------ preprocessing
@keras.saving.register_keras_serializable(package="automl")
class Impute(keras.layers.Layer):
    """Replace missing values by per-column constants fitted on the training split.

    Numeric inputs: NaN is missing, the fill values are numbers. String inputs: the empty string
    is missing and the fill values are strings (TensorFlow backend).

    Args:
        fill_values: one value per column (last axis).
    """

    def __init__(self, fill_values: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fill_values = list(fill_values)
        self.text = any(isinstance(v, str) for v in self.fill_values)

    def call(self, inputs: Any) -> Any:
        if self.text:
            import tensorflow as tf

            fill = tf.constant(self.fill_values, dtype=tf.string)
            fill = tf.broadcast_to(fill, tf.shape(inputs))
            return tf.where(text_missing(inputs), fill, tf.strings.strip(inputs))
        fill = ops.convert_to_tensor(np.asarray(self.fill_values, dtype="float32"))
        fill = ops.broadcast_to(fill, ops.shape(inputs))
        return ops.where(ops.isnan(inputs), fill, inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def compute_output_spec(self, inputs: Any) -> Any:
        return keras.KerasTensor(inputs.shape, dtype=inputs.dtype)  # text stays text

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "fill_values": self.fill_values}


@keras.saving.register_keras_serializable(package="automl")
class EncodeColumns(keras.layers.Layer):
    """Tabular columns -> numbers: numeric columns pass (parsed from text), categorical columns
    become one-hot vectors over the training vocabulary (unknown or missing -> all zeros).

    Args:
        columns: one entry per input column: `{"kind": "numeric"}` or
            `{"kind": "categorical", "vocabulary": [...]}`.
    """

    def __init__(self, columns: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns = [dict(c) for c in columns]
        self.text = any(isinstance(v, str) for c in self.columns for v in c.get("vocabulary", []))

    @property
    def output_width(self) -> int:
        return sum(len(c["vocabulary"]) if c["kind"] == "categorical" else 1 for c in self.columns)

    def call(self, inputs: Any) -> Any:
        parts = []
        if self.text or "string" in str(inputs.dtype):
            import tensorflow as tf

            for i, col in enumerate(self.columns):
                cell = tf.strings.strip(inputs[:, i : i + 1])
                if col["kind"] == "numeric":
                    cell = tf.where(text_missing(cell), tf.constant("nan"), cell)
                    parts.append(tf.strings.to_number(cell, out_type=tf.float32))
                else:
                    vocab = tf.constant([str(v) for v in col["vocabulary"]], dtype=tf.string)
                    parts.append(tf.cast(tf.equal(cell, vocab[None, :]), tf.float32))
            return tf.concat(parts, axis=-1)
        for i, col in enumerate(self.columns):
            cell = ops.cast(inputs[:, i : i + 1], "float32")
            if col["kind"] == "numeric":
                parts.append(cell)
            else:
                vocab = ops.convert_to_tensor(np.asarray(col["vocabulary"], dtype="float32"))
                parts.append(ops.cast(ops.equal(cell, vocab[None, :]), "float32"))
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], self.output_width)

    def compute_output_spec(self, inputs: Any) -> Any:
        return keras.KerasTensor((inputs.shape[0], self.output_width), dtype="float32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "columns": self.columns}


@keras.saving.register_keras_serializable(package="automl")
class LinearProjection(keras.layers.Layer):
    """Flatten, centre and project onto fixed components (a fitted PCA), non-trainable.

    Args:
        n_features: flattened input size.
        n_components: output size.
    """

    def __init__(self, n_features: int, n_components: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_features, self.n_components = int(n_features), int(n_components)
        self.mean = self.add_weight(
            shape=(self.n_features,), initializer="zeros", trainable=False, name="mean"
        )
        self.components = self.add_weight(
            shape=(self.n_features, self.n_components),
            initializer="zeros",
            trainable=False,
            name="components",
        )
        self.built = True

    def call(self, inputs: Any) -> Any:
        flat = ops.reshape(ops.cast(inputs, "float32"), (-1, self.n_features))
        return ops.matmul(flat - self.mean, self.components)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], self.n_components)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "n_features": self.n_features,
            "n_components": self.n_components,
        }
