"""Built-in preprocessors: fitted on the training split only, returned as Keras layers.

The layers become part of the model, so the exported `model.keras` takes raw inputs. Tabular data
with text (categorical) columns arrives as a string matrix (see the `csv` data source): `impute`
fills its missing cells and `one_hot` turns it into numbers (numeric columns parsed, categorical
columns one-hot encoded), after which the numeric preprocessors apply. The custom layers
(`Impute`, `EncodeColumns`, `LinearProjection`) live in `automl_plugins.keras_objects`; Keras is
imported only when a preprocessor builds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from automl import hookimpl
from automl.components import BasePreprocessor, float_param, int_param, str_param

if TYPE_CHECKING:  # Keras is imported when a component builds: `automl validate` never does
    import keras

MISSING = ""  # how a missing cell of a string matrix is written (the csv source normalises to it)
# cells read as missing (case-insensitive, stripped), also in raw rows given to an exported model
MISSING_MARKERS = ("", "na", "n/a", "nan", "null", "none", "?")


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
        from automl_plugins.keras_objects import Impute

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
        from automl_plugins.keras_objects import EncodeColumns

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
        import keras

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
        import keras

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

        from automl_plugins.keras_objects import LinearProjection

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
        import keras

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
        import keras

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
