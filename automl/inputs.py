"""Raw inputs into the model: arrays as tensors, and the preprocessing chain fitted on train.

Numeric arrays become float32; text (string matrices: CSV text or categorical columns) a
TensorFlow string tensor, since Keras' array adapter refuses NumPy strings and only the TensorFlow
backend has string tensors (other backends are refused with a message saying so). `preprocess`
fits each preprocessor on the training split and applies it; when the result is token ids (from a
layer with Keras' `vocabulary_size()` that outputs integers) it also returns the vocabulary size,
which model families that take tokens need for their `Embedding`.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from automl.data import Splits
from automl.errors import AutoMLError, TrialFailed
from automl.plugins import Catalog
from automl.space import TrialConfig


def as_float_inputs(x: np.ndarray) -> np.ndarray:
    """Numeric arrays as float32 (Keras' default); text arrays (tabular data with categorical
    columns) as a TensorFlow string tensor, since Keras' array adapter refuses NumPy strings
    (string tensors exist only in TensorFlow, imported lazily here)."""
    x = np.asarray(x)
    if x.dtype.kind in "iufb":
        return x.astype("float32")
    if x.dtype.kind in "OUS":
        if keras.backend.backend() != "tensorflow":
            raise AutoMLError(
                "text inputs need string tensors, which only the TensorFlow backend of Keras has: "
                f"set KERAS_BACKEND=tensorflow. Received: backend={keras.backend.backend()!r}"
            )
        import tensorflow as tf

        return tf.constant(x.astype(str))
    return x


def preprocess(
    inputs: Any, config: TrialConfig, splits: Splits, catalog: Catalog
) -> tuple[Any, int | None]:
    """Fit each preprocessor on the training split (as the earlier ones left it) and apply it.

    Returns the preprocessed tensor and, when it holds token ids (integers from a layer with a
    vocabulary, as Keras' `TextVectorization` with `output_mode="int"`), the vocabulary size.
    """
    x: Any = inputs
    x_fit = as_float_inputs(splits.x_train)
    vocabulary_size = None
    for step in config.preprocessors:
        with catalog.blame("preprocessor", step.name) as pre:
            layer = pre.build(x_fit, **step.params)
            if layer is None:
                continue
            x = layer(x)
            x_fit = keras.ops.convert_to_numpy(layer(x_fit, training=False))  # no augmentation
        size = getattr(layer, "vocabulary_size", None)
        tokens = callable(size) and "int" in str(x.dtype)
        vocabulary_size = int(size()) if tokens else None  # type: ignore[misc]
    if "string" in str(x.dtype):
        raise TrialFailed(
            "the inputs are still text after the preprocessors: add `one_hot` to `preprocessors` "
            "to encode categorical columns, or a text preprocessor (text_vectorization) for free "
            f"text. Received: preprocessors={[step.name for step in config.preprocessors]}"
        )
    return x, vocabulary_size


def token_problem(family: Any, vocabulary_size: int | None, catalog: Catalog) -> str | None:
    """Why the family cannot take these inputs: token ids for a numeric family, or the reverse."""
    takes_tokens = getattr(family, "takes_tokens", False)
    if takes_tokens and vocabulary_size is None:
        text = [p.name for p in catalog["preprocessor"] if p.accepts_text]
        return (
            f"{family.name} takes token ids: add a text preprocessor that outputs them to "
            f"`preprocessors` (available: {', '.join(text) or 'none registered'}; "
            "text_vectorization with output_mode int)"
        )
    if vocabulary_size is not None and not takes_tokens:
        token_families = [f.name for f in catalog["model_family"] if f.takes_tokens]
        return (
            f"the inputs are token ids and {family.name} does not take them: use a family that "
            f"does ({', '.join(token_families) or 'none registered'}), or one vector per row for "
            f"{family.name} (text_vectorization with output_mode multi_hot, count or tf_idf)"
        )
    return None
