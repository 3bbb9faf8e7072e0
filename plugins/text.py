"""Text in: the `text_vectorization` preprocessor, and whether the Keras backend can take text.

Text stays raw strings until the model: `text_vectorization` is Keras' `TextVectorization`,
adapted on the training split only and placed inside the model, so the exported model takes raw
strings (one column per text column). It outputs token ids (`output_mode: int`, for the
`embedding_*` and `transformer` families of `automl_plugins.text_models`) or one vector per row
(`multi_hot`, `count`, `tf_idf`, for `mlp`). String tensors exist only in TensorFlow: with another
Keras backend the text components refuse with a message saying so. Keras is imported lazily; the
custom Keras class lives in `automl_plugins.text_layers` (imported by
`automl_plugins.keras_objects`). The text sources are the csv source's `text` columns and
`text_folder` (`automl_plugins.text_folder_source`).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from automl import hookimpl
from automl.components import BasePreprocessor, choice_param, int_param, str_param

OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")


def string_tensor_problem(what: str) -> str | None:
    """Why text cannot work with the Keras backend in use (JAX, PyTorch), or None (TensorFlow).

    Keras is not imported for this: before it is loaded (`automl validate`) the answer is None;
    `automl tune` and `automl predict` have loaded it, and building a model checks again.
    """
    keras = sys.modules.get("keras")
    if keras is None:
        return None
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return None
    return (
        f"{what}: text needs string tensors, which only the TensorFlow backend of Keras has. Set "
        f"KERAS_BACKEND=tensorflow (TensorFlow is installed with automl). Received: "
        f"backend={backend!r}"
    )


class TextVectorization(BasePreprocessor):
    """Keras' `TextVectorization`, adapted on the training split: raw strings in, numbers out."""

    name = "text_vectorization"
    help = (
        "Text columns -> token ids (output_mode int, for embedding_* and transformer) or "
        "n-gram vectors (multi_hot, count, tf_idf, for mlp); vocabulary from the training split."
    )
    accepts_text = True
    #: one example out is rank 1: (sequence_length,) token ids or one (max_tokens,) vector, from
    #: a rank-1 example of one string per text column
    output_rank = 1
    params = (
        int_param(
            "max_tokens",
            10000,
            "Vocabulary size: the most frequent n-grams of the training split (with OOV, padding).",
            low=1000,
            high=20000,
            log=True,
            bounds=(3, None),
        ),
        int_param(
            "sequence_length",
            64,
            "output_mode int: token ids per row (padded with 0 or truncated).",
            low=16,
            high=128,
            log=True,
            bounds=(1, None),
        ),
        choice_param("ngrams", 1, "Longest n-gram: 1 (words) or 2 (words and pairs).", (1, 2)),
        str_param(
            "output_mode",
            "int",
            "int (token ids), multi_hot, count or tf_idf (one vector per row).",
            allowed=OUTPUT_MODES,
        ),
    )

    def build(self, x_train: Any, **params: Any) -> Any:
        problem = string_tensor_problem("text_vectorization")
        if problem:
            raise ValueError(problem)
        from automl_plugins.text_layers import TextVectorizer

        dtype = str(getattr(x_train, "dtype", ""))
        if "string" not in dtype and np.asarray(x_train).dtype.kind not in "OUS":
            raise ValueError(
                "text_vectorization needs text columns (strings), e.g. from a csv source with "
                f"`text: [column]` or a text_folder source. Received: dtype={dtype}"
            )
        mode = params["output_mode"]
        layer = TextVectorizer(
            max_tokens=params["max_tokens"],
            output_mode=mode,
            ngrams=params["ngrams"] if params["ngrams"] > 1 else None,
            output_sequence_length=params["sequence_length"] if mode == "int" else None,
        )
        layer.adapt(x_train)
        return layer


@hookimpl
def register_preprocessors(register: Any) -> None:
    register(TextVectorization())
