"""Streamed rows as Keras batches for `model.fit` (`automl.streaming.LazyRows`, read per batch).

Apart from `automl.streaming` because it imports Keras, which data sources must not.
"""

from __future__ import annotations

import keras
import numpy as np

from automl.streaming import LazyRows


class RowBatches(keras.utils.PyDataset):
    """Lazy rows and their targets as Keras batches, read one batch at a time.

    The row order is shuffled every epoch (seeded), as `model.fit` shuffles arrays.

    Args:
        x: the rows.
        y: the targets, in memory (as `fit` expects them).
        batch_size: rows per batch.
        seed: the shuffling seed. Defaults to `0`.
    """

    def __init__(self, x: LazyRows, y: np.ndarray, batch_size: int, seed: int = 0) -> None:
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return np.asarray(self.x[rows], dtype="float32"), self.y[rows]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.x))


__all__ = ["RowBatches"]
