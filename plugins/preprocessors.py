"""Built-in preprocessors: fitted on the training split only, returned as Keras layers.

The layers become part of the model, so the exported `model.keras` takes raw inputs. Tabular data
with text (categorical) columns arrives as a string matrix (see the `csv` data source): `impute`
fills its missing cells and `one_hot` turns it into numbers (numeric columns parsed, categorical
columns one-hot encoded), after which the numeric preprocessors apply. String tensors exist only
in TensorFlow, so those two layers import it lazily; numeric paths use `keras.ops` only.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from automl import hookimpl
from automl.components import BasePreprocessor, float_param, int_param, str_param

MISSING = ""  # how a missing cell of a string matrix is written (the csv source normalises to it)
# cells read as missing (case-insensitive, stripped), also in raw rows given to an exported model
MISSING_MARKERS = ("", "na", "n/a", "nan", "null", "none", "?")


def _text_missing(tensor: Any) -> Any:
    """A boolean TF tensor: which cells of a string tensor are missing."""
    import tensorflow as tf

    cells = tf.strings.lower(tf.strings.strip(tensor))
    hits = [tf.equal(cells, marker) for marker in MISSING_MARKERS]
    return tf.reduce_any(tf.stack(hits, axis=0), axis=0)


def _stats_axes(x: np.ndarray) -> tuple[int, ...]:
    # statistics per last-axis entry: per feature (tabular, sequences) or per channel (images)
    return tuple(range(x.ndim - 1))


def is_text(x: np.ndarray) -> bool:
    """True for string matrices (categorical tabular data)."""
    return np.asarray(x).dtype.kind in "OUS"


def _numeric(x_train: np.ndarray, name: str) -> np.ndarray:
    if is_text(x_train):
        raise ValueError(
            f"{name} needs numeric inputs, but the data has text (categorical) columns: put "
            f"`one_hot` before {name}. Received: dtype={np.asarray(x_train).dtype}"
        )
    x = np.asarray(x_train, dtype="float64")
    if np.isnan(x).any():
        raise ValueError(
            f"{name} found missing values (NaN) in the training data: put `impute` before {name}"
        )
    return x


def parse_column(column: np.ndarray) -> np.ndarray | None:
    """A string column as float64 (missing -> NaN), or None when some cell is not a number."""
    out = np.full(len(column), np.nan)
    for i, cell in enumerate(column):
        if cell == MISSING:
            continue
        try:
            out[i] = float(cell)
        except (TypeError, ValueError):
            return None
    return out


# ------------------------------------------------------------------------------- Keras layers
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
            return tf.where(_text_missing(inputs), fill, tf.strings.strip(inputs))
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
                    cell = tf.where(_text_missing(cell), tf.constant("nan"), cell)
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


# ------------------------------------------------------------------------------ preprocessors
class ImputeMissing(BasePreprocessor):
    """Fill missing values with a per-column statistic of the training split."""

    name = "impute"
    fills_missing = True
    help = (
        "Fill missing values (NaN, or empty cells of text columns) with the training mean, "
        "median or most frequent value; text columns always use the most frequent value."
    )
    params = (
        str_param(
            "strategy",
            "mean",
            "mean, median or most_frequent.",
            allowed=("mean", "median", "most_frequent"),
        ),
    )

    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        strategy = params.get("strategy", "mean")
        x = np.asarray(x_train)
        if is_text(x):
            if x.ndim != 2:
                raise ValueError(
                    f"impute on text needs a (rows, columns) matrix. Received: shape={x.shape}"
                )
            return Impute([self._text_fill(x[:, j], strategy) for j in range(x.shape[1])])
        flat = np.asarray(x, dtype="float64").reshape(-1, x.shape[-1])
        return Impute([self._number_fill(flat[:, j], strategy) for j in range(flat.shape[1])])

    @staticmethod
    def _number_fill(column: np.ndarray, strategy: str) -> float:
        present = column[~np.isnan(column)]
        if len(present) == 0:
            return 0.0
        if strategy == "median":
            return float(np.median(present))
        if strategy == "most_frequent":
            values, counts = np.unique(present, return_counts=True)
            return float(values[np.argmax(counts)])
        return float(present.mean())

    def _text_fill(self, column: np.ndarray, strategy: str) -> str:
        column = column.astype(str)
        numbers = parse_column(column)
        if numbers is not None and strategy != "most_frequent":
            return repr(self._number_fill(numbers, strategy))
        present = column[column != MISSING]
        if len(present) == 0:
            return MISSING
        values, counts = np.unique(present, return_counts=True)
        return str(values[np.argmax(counts)])


class OneHot(BasePreprocessor):
    """One-hot encode categorical columns; numeric columns pass through as numbers."""

    name = "one_hot"
    output_rank = 1
    help = (
        "One-hot encode categorical columns (text columns, or integer columns with at most "
        "max_categories values); numeric columns pass through."
    )
    params = (
        int_param(
            "max_categories",
            10,
            "Integer columns with at most this many values are categorical (numeric data only).",
            bounds=(2, None),
        ),
    )

    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        x = np.asarray(x_train)
        if x.ndim != 2:
            raise ValueError(
                f"one_hot needs tabular data of shape (rows, columns). Received: shape={x.shape}"
            )
        columns: list[dict[str, Any]] = []
        for j in range(x.shape[1]):
            col = x[:, j]
            if is_text(x):
                col = col.astype(str)
                if parse_column(col) is not None:
                    columns.append({"kind": "numeric"})
                else:
                    vocab = sorted(set(col.tolist()) - {MISSING})
                    columns.append({"kind": "categorical", "vocabulary": vocab})
            else:
                values = np.unique(col[~np.isnan(col.astype("float64"))])
                integral = np.all(np.mod(values, 1) == 0)
                if integral and 1 < len(values) <= params.get("max_categories", 10):
                    columns.append(
                        {"kind": "categorical", "vocabulary": [float(v) for v in values]}
                    )
                else:
                    columns.append({"kind": "numeric"})
        return EncodeColumns(columns)


class Standardize(BasePreprocessor):
    """Zero mean, unit variance per feature (per channel for images)."""

    name = "standardize"
    help = "Subtract the training mean and divide by the training standard deviation."

    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        x = _numeric(x_train, self.name)
        mean = x.mean(axis=_stats_axes(x))
        var = x.var(axis=_stats_axes(x))
        var = np.where(var > 1e-12, var, 1.0)  # constant columns pass through centred
        return keras.layers.Normalization(axis=-1, mean=mean.tolist(), variance=var.tolist())


class MinMax(BasePreprocessor):
    """Scale each feature (channel for images) to [0, 1] using the training range."""

    name = "min_max"
    help = "Scale to [0, 1] with the training minimum and maximum."

    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        x = _numeric(x_train, self.name)
        low = x.min(axis=_stats_axes(x))
        span = x.max(axis=_stats_axes(x)) - low
        span = np.where(span > 1e-12, span, 1.0)
        return keras.layers.Normalization(axis=-1, mean=low.tolist(), variance=(span**2).tolist())


class PCA(BasePreprocessor):
    """Project the (flattened) inputs onto their first principal components."""

    name = "pca"
    output_rank = 1
    help = "PCA fitted on the training split: keep the first `components` (at most the features)."
    params = (
        int_param(
            "components",
            16,
            "Principal components kept.",
            low=2,
            high=32,
            log=True,
            bounds=(1, None),
        ),
    )

    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        from sklearn.decomposition import PCA as SkPCA

        x = _numeric(x_train, self.name).reshape(len(x_train), -1)
        k = int(min(params.get("components", 16), x.shape[1], x.shape[0]))
        pca = SkPCA(n_components=k, svd_solver="full").fit(x)
        layer = LinearProjection(x.shape[1], k)
        layer.mean.assign(pca.mean_.astype("float32"))
        layer.components.assign(pca.components_.T.astype("float32"))
        return layer


class Rescale(BasePreprocessor):
    """Multiply by `scale` and add `offset` (e.g. pixels 0..255 -> 0..1); nothing is fitted."""

    name = "rescale"
    help = "x * scale + offset, e.g. scale 1/255 for 8-bit images."
    params = (
        float_param("scale", 1.0 / 255.0, "Multiplier."),
        float_param("offset", 0.0, "Added after scaling."),
    )

    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        _numeric(x_train, self.name)
        return keras.layers.Rescaling(
            scale=params.get("scale", 1 / 255), offset=params.get("offset", 0.0)
        )


class Augment(BasePreprocessor):
    """Random image flips, rotations, zooms and shifts, active in training only."""

    name = "augment"
    help = "Image augmentation (flip, rotation, zoom, translation); identity at inference."
    params = (
        str_param(
            "flip",
            "horizontal",
            "none, horizontal, vertical or horizontal_and_vertical.",
            allowed=("none", "horizontal", "vertical", "horizontal_and_vertical"),
        ),
        float_param(
            "rotation",
            0.05,
            "Max rotation as a fraction of a full turn.",
            low=0.0,
            high=0.15,
            bounds=(0, 1),
        ),
        float_param("zoom", 0.1, "Max zoom in/out fraction.", low=0.0, high=0.2, bounds=(0, 0.9)),
        float_param(
            "translation",
            0.1,
            "Max shift as a fraction of the size.",
            low=0.0,
            high=0.2,
            bounds=(0, 0.9),
        ),
    )

    def build(self, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
        x = np.asarray(x_train)
        if x.ndim != 4:
            raise ValueError(
                "augment needs images of shape (height, width, channels). "
                f"Received: input shape={tuple(x.shape[1:])}"
            )
        layers: list[keras.layers.Layer] = []
        if params["flip"] != "none":
            layers.append(keras.layers.RandomFlip(params["flip"]))
        if params["rotation"] > 0:
            layers.append(keras.layers.RandomRotation(params["rotation"], fill_mode="constant"))
        if params["zoom"] > 0:
            layers.append(keras.layers.RandomZoom(params["zoom"], fill_mode="constant"))
        if params["translation"] > 0:
            t = params["translation"]
            layers.append(keras.layers.RandomTranslation(t, t, fill_mode="constant"))
        if not layers:
            return keras.layers.Identity()
        return keras.Sequential(layers, name="augment")


@hookimpl
def register_preprocessors(register: Any) -> None:
    for pre in (ImputeMissing(), OneHot(), Standardize(), MinMax(), PCA(), Rescale(), Augment()):
        register(pre)
