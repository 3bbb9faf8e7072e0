"""Text in: a folder-per-class source of `.txt` files and the `text_vectorization` preprocessor.

Text stays raw strings until the model: `text_vectorization` is Keras' `TextVectorization`,
adapted on the training split only and placed inside the model, so the exported model takes raw
strings (one column per text column). It outputs token ids (`output_mode: int`, for the
`embedding_*` and `transformer` families of `automl_plugins.text_models`) or one vector per row
(`multi_hot`, `count`, `tf_idf`, for `mlp`). String tensors exist only in TensorFlow: with another
Keras backend the text components refuse with a message saying so. Keras is imported lazily; the
custom Keras class lives in `automl_plugins.text_layers`.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# registers the custom Keras classes for `automl.load` (until one shared module of Keras objects
# imports it: then this import moves there and keras is imported lazily here)
import automl_plugins.text_layers  # noqa: F401
from automl import hookimpl
from automl.components import (
    BaseDataSource,
    BasePreprocessor,
    choice_param,
    int_param,
    str_param,
)
from automl.data import Dataset
from automl.errors import AutoMLError
from automl.registry import closest

OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")
#: a string column looks like free text (not categories) when most rows are distinct and the
#: typical cell has at least this many words
FREE_TEXT_WORDS = 3
FREE_TEXT_DISTINCT = 0.5


def string_tensor_problem(what: str) -> str | None:
    """Why text cannot work with the Keras backend in use (JAX, PyTorch), or None (TensorFlow)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        return None
    return (
        f"{what}: text needs string tensors, which only the TensorFlow backend of Keras has. Set "
        f"KERAS_BACKEND=tensorflow (TensorFlow is installed with automl). Received: "
        f"backend={backend!r}"
    )


def free_text(column: np.ndarray) -> str | None:
    """Why a string column looks like free text rather than categories, or None when it does not.

    One-hot encoding such a column makes every sentence its own category, which learns nothing.
    """
    cells = [str(c) for c in column if str(c) != ""]
    if len(cells) < 10:
        return None
    distinct = len(set(cells)) / len(cells)
    words = float(np.median([len(c.split()) for c in cells]))
    if distinct < FREE_TEXT_DISTINCT or words < FREE_TEXT_WORDS:
        return None
    return f"{len(set(cells))} distinct values in {len(cells)} rows, {words:g} words per cell"


def text_column_names(header: list[str], text: Any, target: int, path: Path) -> list[str]:
    """The `text` columns a csv source declares, checked against its header."""
    names = list(text or [])
    for name in names:
        if name not in header:
            hint = closest(name, header)
            did = f"; did you mean {hint!r}?" if hint else "."
            raise AutoMLError(f"{path}: no text column {name!r}{did} Columns: {', '.join(header)}")
        if name == header[target]:
            raise AutoMLError(f"{path}: the target column {name!r} cannot also be a text column")
    return names


def text_features(
    header: list[str],
    rows: list[list[str]],
    target: int,
    text: list[str],
    clean: Callable[[str], str],
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """A csv source's declared text columns as raw strings; the other columns are not used."""
    index = [header.index(name) for name in text]
    x = np.asarray([[clean(r[i]) for i in index] for r in rows], dtype=object)
    columns = [
        {"name": name, "kind": "text", "missing": int((x[:, j] == "").sum())}
        for j, name in enumerate(text)
    ]
    schema = {
        "format": "csv",
        "kind": "text",
        "columns": columns,
        "target": header[target],
        "ignored": [h for i, h in enumerate(header) if i != target and h not in text],
        "input": "string matrix (rows, text columns) of raw text; missing values as ''",
    }
    return x, list(text), schema


class TextFolderSource(BaseDataSource):
    """One subfolder of `.txt` files per class (`keras.utils.text_dataset_from_directory`)."""

    name = "text_folder"
    help = (
        "A folder with one subfolder of .txt files per class (the layout of "
        "keras.utils.text_dataset_from_directory); each file is one example."
    )
    params = (str_param("path", "", "The root folder (relative to the YAML file)."),)

    def _classes(self, params: dict[str, Any]) -> tuple[Path, list[Path]]:
        root = Path(params.get("path") or "")
        if not params.get("path") or not root.is_dir():
            raise AutoMLError(
                "text_folder needs `path`, a folder with one subfolder of .txt files per class "
                f"(relative paths are relative to the YAML file). Received: path={str(root)!r}"
            )
        classes = sorted(p for p in root.iterdir() if p.is_dir())
        if len(classes) < 2:
            raise AutoMLError(
                f"{root}: expected one subfolder per class (at least 2). "
                f"Received: {[p.name for p in classes]}"
            )
        for folder in classes:
            if not any(folder.glob("*.txt")):
                raise AutoMLError(f"{folder}: no .txt files (each class needs some)")
        return root, classes

    def task(self, **params: Any) -> str | None:
        _, classes = self._classes(params)
        return "binary" if len(classes) == 2 else "multiclass"

    def text_columns(self, **params: Any) -> tuple[str, ...]:
        return ("text",)

    def load(self, **params: Any) -> Dataset:
        problem = string_tensor_problem("text_folder")
        if problem:
            raise AutoMLError(problem)
        import keras

        root, _ = self._classes(params)
        with contextlib.redirect_stdout(io.StringIO()):  # "Found N files belonging to K classes."
            dataset = keras.utils.text_dataset_from_directory(
                root, batch_size=None, shuffle=False, label_mode="int"
            )
        texts, labels = [], []
        for text, label in dataset.as_numpy_iterator():
            texts.append(text.decode("utf-8", errors="replace"))
            labels.append(int(label))
        names = [str(n) for n in dataset.class_names]
        schema = {
            "format": "text_folder",
            "kind": "text",
            "columns": [{"name": "text", "kind": "text", "missing": 0}],
            "input": "string matrix (rows, 1): the text of each file",
        }
        return Dataset(
            x=np.asarray(texts, dtype=object)[:, None],
            y=np.asarray(names)[np.asarray(labels)],
            name=f"text_folder:{root.name}",
            feature_names=["text"],
            class_names=names,
            schema=schema,
        )


class TextVectorization(BasePreprocessor):
    """Keras' `TextVectorization`, adapted on the training split: raw strings in, numbers out."""

    name = "text_vectorization"
    help = (
        "Text columns -> token ids (output_mode int, for embedding_* and transformer) or "
        "n-gram vectors (multi_hot, count, tf_idf, for mlp); vocabulary from the training split."
    )
    accepts_text = True
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
def register_data_sources(register: Any) -> None:
    register(TextFolderSource())


@hookimpl
def register_preprocessors(register: Any) -> None:
    register(TextVectorization())
