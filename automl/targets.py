"""Targets: the task a target column implies, and its encoding for Keras."""

from __future__ import annotations

import numpy as np

from automl.components import VALUES
from automl.errors import DataError


def infer_task(y: np.ndarray) -> str:
    """Binary / multiclass for labels (strings, booleans, few integers), regression otherwise."""
    y = np.asarray(y)
    if y.dtype.kind in "OUSb":
        return "binary" if len(np.unique(y)) <= 2 else "multiclass"
    if y.dtype.kind in "iu":
        n_unique = len(np.unique(y))
        if n_unique <= 2:
            return "binary"
        return "multiclass" if n_unique <= max(20, int(0.05 * len(y))) else "regression"
    if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0) and len(np.unique(y)) <= 20:
        return "binary" if len(np.unique(y)) <= 2 else "multiclass"
    return "regression"


def encode_targets(y: np.ndarray, task: str) -> tuple[np.ndarray, list[str] | None]:
    """Class labels -> indices 0..k-1 (with the names in index order); values -> float32.

    A forecast's targets are the next `horizon` values of the series, shape (n, horizon); every
    other task's are one per row, shape (n,).
    """
    forecast = task == "forecast"
    if np.ndim(y) != (2 if forecast else 1):
        expected = "(n, horizon), as the timeseries data source gives" if forecast else "(n,)"
        raise DataError(
            f"a {task} task needs targets of shape {expected}. "
            f"Received: targets of shape {np.shape(y)}"
        )
    if task in VALUES:
        try:
            return np.asarray(y, dtype="float32"), None
        except (TypeError, ValueError) as exc:
            raise DataError(f"{task} targets must be numbers: {exc}") from exc
    labels, encoded = np.unique(np.asarray(y), return_inverse=True)
    if task == "binary" and len(labels) > 2:
        raise DataError(
            f"task is binary but the target has {len(labels)} classes: {list(labels)[:10]}"
        )
    if len(labels) < 2:
        raise DataError(
            f"a {task} task needs at least 2 classes in the target. "
            f"Received: only {[str(v) for v in labels]}"
        )
    return encoded.astype("int64"), [str(label) for label in labels]


def missing_targets(y: np.ndarray) -> int:
    """How many targets are missing (NaN or None)."""
    if y.dtype.kind == "f":
        return int(np.isnan(y).sum())
    if y.dtype.kind == "O":
        return sum(v is None or (isinstance(v, float) and np.isnan(v)) for v in y)
    return 0
