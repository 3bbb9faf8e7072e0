"""Data larger than memory: rows that stay on disk until a batch of them is needed.

A data source may return, as `Dataset.x`, a `LazyRows` instead of an array: it holds a
`RowReader` (which knows how to read any rows, e.g. image files) and the indices of its rows.
It has `len()`, `shape` and `dtype`, and indexing it by an index array or a slice gives another
`LazyRows` without reading anything, so the core's seeded splits and folds (`automl.data`) are
made on the file list unchanged. Rows are read only:

- in batches for training (`automl.row_batches.RowBatches`, a `keras.utils.PyDataset`),
- in batches for validation scoring and prediction (`automl.trial.forward` slices, then reads),
- as a bounded, seeded sample when preprocessors adapt (`adapt_sample`).

`np.asarray(rows)` reads every row: fine for a slice, never done on a whole training split.
This module does not import Keras: data sources use it, and `automl validate` loads them
without a deep-learning framework.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, TypeGuard

import numpy as np

#: rows a preprocessor adapts on when the training rows are streamed (a seeded sample): the
#: statistics of min_max / standardize / pca settle long before this many rows
ADAPT_ROWS = 2048


class RowReader(ABC):
    """Reads rows of a data set on demand. Subclass it in a data source for streamed data.

    `row_shape` and `dtype` describe one row; `read(indices)` returns those rows, stacked, in
    the order given. Keep no open handle between calls: each worker process and isolated trial
    loads the data set again in its own process.
    """

    row_shape: tuple[int, ...] = ()
    dtype: np.dtype[Any] = np.dtype("float32")

    @abstractmethod
    def __len__(self) -> int:
        """The number of rows in the whole data set."""

    @abstractmethod
    def read(self, indices: np.ndarray) -> np.ndarray:
        """Rows `indices` as an array of shape (len(indices), *row_shape)."""


class LazyRows:
    """Some rows of a `RowReader`, unread: indexing gives another `LazyRows`, not data.

    Args:
        reader: where the rows come from.
        indices: which of the reader's rows, in order. Defaults to `None` (all of them).
    """

    def __init__(self, reader: RowReader, indices: np.ndarray | None = None) -> None:
        self.reader = reader
        self.indices = (
            np.arange(len(reader)) if indices is None else np.asarray(indices, dtype="int64")
        )

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def shape(self) -> tuple[int, ...]:
        """(rows, *row_shape), like an array's."""
        return (len(self.indices), *self.reader.row_shape)

    @property
    def ndim(self) -> int:
        """Number of axes, the row axis included."""
        return 1 + len(self.reader.row_shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype `read` returns."""
        return self.reader.dtype

    def __getitem__(self, key: Any) -> Any:
        """A slice or an index array gives lazy rows; an integer reads that one row."""
        if isinstance(key, (int, np.integer)):
            return self.reader.read(self.indices[int(key) : int(key) + 1])[0]
        return LazyRows(self.reader, self.indices[key])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        rows = self.reader.read(self.indices)
        return rows if dtype is None else rows.astype(dtype)

    def __repr__(self) -> str:
        return f"LazyRows({type(self.reader).__name__}, shape={self.shape})"


def is_lazy(x: Any) -> TypeGuard[LazyRows]:
    """True for rows read on demand (`LazyRows`)."""
    return isinstance(x, LazyRows)


def concat_rows(first: Any, second: Any) -> Any:
    """`first` then `second`: lazy when both are lazy rows of one reader, else an array."""
    if is_lazy(first) and is_lazy(second) and first.reader is second.reader:
        return LazyRows(first.reader, np.concatenate([first.indices, second.indices]))
    return np.concatenate([np.asarray(first), np.asarray(second)])


def adapt_sample(x: Any, rows: int = ADAPT_ROWS, seed: int = 0) -> Any:
    """What preprocessors adapt on: `x` itself when it is in memory, else a seeded sample of at
    most `rows` rows (in their original order), read into memory."""
    if not is_lazy(x):
        return x
    if len(x) <= rows:
        return np.asarray(x)
    chosen = np.sort(np.random.default_rng(seed).choice(len(x), size=rows, replace=False))
    return np.asarray(x[chosen])


__all__ = [
    "ADAPT_ROWS",
    "LazyRows",
    "RowReader",
    "adapt_sample",
    "concat_rows",
    "is_lazy",
]
