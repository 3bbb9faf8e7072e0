"""The `text_folder` data source: one subfolder of `.txt` files per class, one example per file.

Registered by `automl_plugins.data_sources`. The files are read by
`keras.utils.text_dataset_from_directory` (that function's own layout), into one text column,
`text`, of raw strings for a text preprocessor (`text_vectorization`).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from automl.components import BaseDataSource, str_param
from automl.data import Dataset
from automl.errors import AutoMLError, DataError
from automl_plugins.csv_source import data_file
from automl_plugins.text import string_tensor_problem


class TextFolderSource(BaseDataSource):
    """One subfolder of `.txt` files per class (`keras.utils.text_dataset_from_directory`)."""

    name = "text_folder"
    help = (
        "A folder with one subfolder of .txt files per class (the layout of "
        "keras.utils.text_dataset_from_directory); each file is one example."
    )
    params = (str_param("path", "", "The root folder (relative to the YAML file)."),)

    def _classes(self, params: dict[str, Any]) -> tuple[Path, list[Path]]:
        root = data_file(params.get("path"), "text_folder", folder=True)
        classes = sorted(p for p in root.iterdir() if p.is_dir())
        if len(classes) < 2:
            raise DataError(
                f"{root}: expected one subfolder of .txt files per class (at least 2). "
                f"Received: {[p.name for p in classes]}"
            )
        for folder in classes:
            if not any(folder.glob("*.txt")):
                raise DataError(f"{folder}: no .txt files (each class needs some)")
        return root, classes

    def task(self, **params: Any) -> str | None:
        _, classes = self._classes(params)
        return "binary" if len(classes) == 2 else "multiclass"

    def rank(self, **params: Any) -> int | None:
        return 1  # one text column: one string per example

    def text_columns(self, **params: Any) -> tuple[str, ...]:
        return ("text",)

    def load(self, **params: Any) -> Dataset:
        root, _ = self._classes(params)
        import keras

        problem = string_tensor_problem("text_folder")
        if problem:
            raise AutoMLError(problem)  # a setting (the Keras backend), not the data
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
