"""Built-in preprocessors: fitted on the training split, returned as Keras layers."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from automl import hookimpl
from automl.components import BasePreprocessor


def _stats_axes(x: np.ndarray) -> tuple[int, ...]:
    # statistics per last-axis entry: per feature (tabular, sequences) or per channel (images)
    return tuple(range(x.ndim - 1))


class Standardize(BasePreprocessor):
    """Zero mean, unit variance per feature (per channel for images)."""

    name = "standardize"
    help = "Subtract the training mean and divide by the training standard deviation."

    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        x = np.asarray(x_train, dtype="float64")
        mean = x.mean(axis=_stats_axes(x))
        var = x.var(axis=_stats_axes(x))
        var = np.where(var > 1e-12, var, 1.0)  # constant columns pass through centred
        return keras.layers.Normalization(axis=-1, mean=mean.tolist(), variance=var.tolist())


class MinMax(BasePreprocessor):
    """Scale each feature (channel for images) to [0, 1] using the training range."""

    name = "min_max"
    help = "Scale to [0, 1] with the training minimum and maximum."

    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        x = np.asarray(x_train, dtype="float64")
        low = x.min(axis=_stats_axes(x))
        span = x.max(axis=_stats_axes(x)) - low
        span = np.where(span > 1e-12, span, 1.0)
        return keras.layers.Normalization(axis=-1, mean=low.tolist(), variance=(span**2).tolist())


@hookimpl
def register_preprocessors(register: Any) -> None:
    register(Standardize())
    register(MinMax())
