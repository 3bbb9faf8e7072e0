"""Built-in data sources: scikit-learn sets, CSV files, `.npz` arrays, image folders, keras sets,
text folders (the csv and text_folder sources live in their own modules, registered here).

Each returns the whole data set as a `Dataset`; the core splits it. Each answers `task()` cheaply
where it can (the CSV source reads only the target column), so `automl validate` can check that
the metric and loss fit the task before any data is loaded. The task is inferred from the target
unless `data.task` sets it.
"""

from __future__ import annotations

import contextlib
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from automl import hookimpl
from automl.components import BaseDataSource, bool_param, float_param, int_param, str_param
from automl.data import Dataset, infer_task
from automl.errors import DataError
from automl_plugins.csv_source import CsvSource, data_file
from automl_plugins.text_folder_source import TextFolderSource

SKLEARN_SETS = {
    "digits": "multiclass",
    "iris": "multiclass",
    "wine": "multiclass",
    "breast_cancer": "binary",
    "diabetes": "regression",
    "make_classification": None,  # binary or multiclass, from n_classes
    "make_regression": "regression",
}


class SklearnSource(BaseDataSource):
    """scikit-learn's bundled data sets and synthetic generators (no download needed)."""

    name = "sklearn"
    help = (
        "A data set bundled with scikit-learn (digits, iris, wine, breast_cancer, diabetes) or "
        "a synthetic one (make_classification, make_regression) of a chosen size."
    )
    params = (
        str_param("name", "digits", "Which data set.", allowed=tuple(SKLEARN_SETS)),
        bool_param(
            "images", True, "digits only: give 8x8x1 images (for CNNs) instead of 64 columns."
        ),
        int_param("n_samples", 1000, "make_*: number of rows.", bounds=(10, None)),
        int_param("n_features", 20, "make_*: number of columns.", bounds=(1, None)),
        int_param("n_informative", 5, "make_*: informative columns.", bounds=(1, None)),
        int_param("n_classes", 2, "make_classification: number of classes.", bounds=(2, None)),
        float_param(
            "minority",
            0.0,
            "make_classification: fraction of the last class (0 = balanced), for imbalanced data.",
            bounds=(0, 0.5),
        ),
        float_param("noise", 0.1, "make_regression: noise standard deviation.", bounds=(0, None)),
        int_param("seed", 0, "make_*: random seed."),
    )

    def task(self, **params: Any) -> str | None:
        name = params.get("name", "digits")
        if name == "make_classification":
            return "binary" if params.get("n_classes", 2) == 2 else "multiclass"
        return SKLEARN_SETS.get(name)

    def rank(self, **params: Any) -> int | None:
        digit_images = params.get("name", "digits") == "digits" and params.get("images", True)
        return 3 if digit_images else 1

    def load(self, **params: Any) -> Dataset:
        from sklearn import datasets

        full = {**self.defaults(), **params}
        name = full["name"]
        if name not in SKLEARN_SETS:
            raise DataError(
                f"unknown scikit-learn data set. Expected one of "
                f"{', '.join(SKLEARN_SETS)}. Received: name={name!r}"
            )
        if name.startswith("make_"):
            return self._synthetic(datasets, full)
        bunch = getattr(datasets, f"load_{name}")()
        x = np.asarray(bunch.data, dtype="float32")
        if name == "digits" and full["images"]:
            x = x.reshape(-1, 8, 8, 1)
        target_names = getattr(bunch, "target_names", None)
        features = getattr(bunch, "feature_names", None)  # a NumPy array for breast_cancer
        class_names = (
            [str(t) for t in target_names]
            if target_names is not None and name != "diabetes"
            else None
        )
        return Dataset(
            x=x,
            y=np.asarray(bunch.target),
            task=SKLEARN_SETS[name],
            name=f"sklearn:{name}",
            feature_names=[str(f) for f in features] if features is not None else None,
            class_names=class_names,
        )

    def _synthetic(self, datasets: Any, p: dict[str, Any]) -> Dataset:
        n_features = p["n_features"]
        informative = min(p["n_informative"], n_features)
        if p["name"] == "make_regression":
            x, y = datasets.make_regression(
                n_samples=p["n_samples"],
                n_features=n_features,
                n_informative=informative,
                noise=p["noise"],
                random_state=p["seed"],
            )
            task = "regression"
        else:
            k = p["n_classes"]
            if 2**informative < k * 2:
                raise DataError(
                    f"make_classification needs n_classes * 2 <= 2 ** n_informative. Received: "
                    f"n_classes={k}, n_informative={informative}"
                )
            weights = None
            if p["minority"] > 0:
                rest = (1.0 - p["minority"]) / (k - 1)
                weights = [rest] * (k - 1) + [p["minority"]]
            x, y = datasets.make_classification(
                n_samples=p["n_samples"],
                n_features=n_features,
                n_informative=informative,
                n_redundant=0,
                n_classes=k,
                weights=weights,
                random_state=p["seed"],
            )
            task = "binary" if k == 2 else "multiclass"
        return Dataset(
            x=x.astype("float32"),
            y=y,
            task=task,
            name=f"sklearn:{p['name']}",
            feature_names=[f"x{i}" for i in range(n_features)],
        )


class NpzSource(BaseDataSource):
    """Arrays from an `.npz` file: tabular (N, F), sequences (N, T, F) or images (N, H, W[, C])."""

    name = "npz"
    help = (
        "An .npz file with arrays x and y, or x_train/y_train/x_test/y_test (the Keras "
        "MNIST layout, concatenated; the core makes its own split). Arrays x_val and y_val, "
        "when present, are the fixed validation split."
    )
    params = (
        str_param("path", "", "The .npz file (relative to the YAML file)."),
        str_param("x", "x", "Name of the feature array."),
        str_param("y", "y", "Name of the target array."),
        bool_param("images", False, "Treat 3-D x (N, H, W) as grey images: add a channel axis."),
    )

    def _keys(self, data: Any, params: dict[str, Any], path: Path) -> tuple[list[str], list[str]]:
        xk, yk = params.get("x", "x"), params.get("y", "y")
        if xk in data.files and yk in data.files:
            return [xk], [yk]
        if "x_train" in data.files and "y_train" in data.files:
            xs, ys = ["x_train"], ["y_train"]
            if "x_test" in data.files and "y_test" in data.files:
                xs, ys = [*xs, "x_test"], [*ys, "y_test"]
            return xs, ys
        raise DataError(
            f"{path}: expected arrays {xk!r} and {yk!r} (or x_train, y_train). "
            f"Received: arrays {data.files}"
        )

    def _all_keys(self, data: Any, params: dict[str, Any], path: Path) -> tuple[list[str], ...]:
        """The feature and target arrays, with `x_val` and `y_val` (the fixed validation split,
        whose rows go last) when the file has them."""
        xkeys, ykeys = self._keys(data, params, path)
        if "x_val" in data.files and "y_val" in data.files:
            return [*xkeys, "x_val"], [*ykeys, "y_val"]
        return xkeys, ykeys

    def _y(self, data: Any, keys: list[str], path: Path) -> np.ndarray:
        y = np.concatenate([np.asarray(data[k]) for k in keys])
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.reshape(-1)
        if y.ndim != 1:
            raise DataError(f"{path}: expected targets of shape (n,). Received: shape={y.shape}")
        if y.dtype.kind == "f" and np.isnan(y).any():
            raise DataError(
                f"{path}: the targets ({', '.join(keys)}) have {int(np.isnan(y).sum())} missing "
                "values (NaN); remove those rows (automl does not impute targets)"
            )
        return y

    def task(self, **params: Any) -> str | None:
        with _npz(params) as (data, path):
            _, ykeys = self._all_keys(data, params, path)
            return infer_task(self._y(data, ykeys, path))

    def rank(self, **params: Any) -> int | None:
        """From the first x array's .npy header: nothing is loaded."""
        with _npz(params) as (data, path):
            key = self._keys(data, params, path)[0][0]
            with zipfile.ZipFile(path) as archive, archive.open(f"{key}.npy") as member:
                fmt = np.lib.format
                first = fmt.read_magic(member) == (1, 0)
                read = fmt.read_array_header_1_0 if first else fmt.read_array_header_2_0
                shape = read(member)[0]
        images = len(shape) == 3 and params.get("images", False)
        return len(shape) - 1 + int(images)

    def load(self, **params: Any) -> Dataset:
        with _npz(params) as (data, path):
            xkeys, ykeys = self._all_keys(data, params, path)
            parts = {k: np.asarray(data[k]) for k in xkeys}
            shapes = {k: a.shape[1:] for k, a in parts.items()}
            if len(set(shapes.values())) > 1:
                raise DataError(f"{path}: the feature arrays differ in shape. Received: {shapes}")
            x = np.concatenate(list(parts.values()))
            y = self._y(data, ykeys, path)
            n_val = len(data["y_val"]) if "y_val" in ykeys else 0
        if x.ndim < 2:
            raise DataError(
                f"{path}: expected features of shape (n, ...). Received: shape={x.shape}"
            )
        if len(x) != len(y):
            raise DataError(f"{path}: x has {len(x)} rows but y has {len(y)}")
        if x.ndim == 3 and params.get("images", False):
            x = x[..., None]
        layout = {
            2: "tabular (n, features)",
            3: "sequences (n, timesteps, features)",
            4: "images (n, height, width, channels)",
        }.get(x.ndim, f"{x.ndim}-D arrays")
        schema = {"format": "npz", "input": layout, "shape": list(x.shape[1:])}
        return Dataset(
            x=x.astype("float32"),
            y=y,
            name=f"npz:{path.name}",
            schema=schema,
            validation_rows=np.arange(len(y) - n_val, len(y)) if n_val else None,
        )


@contextlib.contextmanager
def _npz(params: dict[str, Any]) -> Iterator[tuple[Any, Path]]:
    """The open .npz file; not a zip of arrays, or arrays of Python objects: a `DataError`."""
    path = data_file(params.get("path"), "npz")
    if not zipfile.is_zipfile(path):
        raise DataError(
            f"{path}: expected an .npz file (a zip of .npy arrays, as np.savez writes), "
            "got another kind of file"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            yield data, path
    except ValueError as exc:
        if "pickle" not in str(exc).lower():
            raise
        raise DataError(
            f"{path}: an array holds Python objects (dtype=object), which would need pickle "
            "to load: refused. Save numeric arrays (np.savez(path, x=x.astype('float32'), y=y))"
        ) from None


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _tf_reason(exc: Exception) -> str:
    """TensorFlow's message without its op and device decoration."""
    text = str(exc).strip()
    match = re.search(r"\}\}\s*(.*?)\s*\[Op:", text, re.DOTALL)
    return match.group(1) if match else text.splitlines()[0] if text else type(exc).__name__


class ImageFolderSource(BaseDataSource):
    """One subfolder per class, each image resized to `height` x `width` (TensorFlow decoders)."""

    name = "image_folder"
    help = "A folder with one subfolder of images (png, jpg, bmp, gif) per class, resized."
    params = (
        str_param("path", "", "The root folder (relative to the YAML file)."),
        int_param("height", 32, "Image height after resizing.", bounds=(1, None)),
        int_param("width", 32, "Image width after resizing.", bounds=(1, None)),
        int_param("channels", 3, "1 (grey) or 3 (RGB).", bounds=(1, 3)),
    )

    def _classes(self, params: dict[str, Any]) -> tuple[Path, list[Path]]:
        root = data_file(params.get("path"), "image_folder", folder=True)
        classes = sorted(p for p in root.iterdir() if p.is_dir())
        if len(classes) < 2:
            raise DataError(
                f"{root}: expected one subfolder per class (at least 2). "
                f"Received: {[p.name for p in classes]}"
            )
        return root, classes

    def task(self, **params: Any) -> str | None:
        _, classes = self._classes(params)
        return "binary" if len(classes) == 2 else "multiclass"

    def rank(self, **params: Any) -> int | None:
        return 3

    def load(self, **params: Any) -> Dataset:
        import tensorflow as tf

        full = {**self.defaults(), **params}
        root, classes = self._classes(full)
        images, labels = [], []
        for label, folder in enumerate(classes):
            files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise DataError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
            for f in files:
                try:
                    img = tf.io.decode_image(
                        tf.io.read_file(str(f)), channels=full["channels"], expand_animations=False
                    )
                except Exception as exc:  # TensorFlow's InvalidArgumentError
                    raise DataError(f"{f}: cannot decode the image: {_tf_reason(exc)}") from None
                img = tf.image.resize(img, (full["height"], full["width"]))
                images.append(img.numpy())
                labels.append(label)
        shape = [full["height"], full["width"], full["channels"]]
        schema = {
            "format": "images",
            "input": "images (n, height, width, channels), pixels 0-255",
            "shape": shape,
        }
        return Dataset(
            x=np.stack(images).astype("float32"),
            y=np.asarray(labels),
            name=f"image_folder:{root.name}",
            class_names=[c.name for c in classes],
            schema=schema,
        )


KERAS_SETS = ("mnist", "fashion_mnist", "cifar10")


def keras_cache() -> Path:
    """Keras' cache directory: `$KERAS_HOME`, else `~/.keras` (as keras.utils.get_file uses)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


class KerasSource(BaseDataSource):
    """`keras.datasets` (downloaded once into the Keras cache, `$KERAS_HOME/datasets`)."""

    name = "keras"
    help = "A keras.datasets set: mnist, fashion_mnist or cifar10 (train and test joined)."
    params = (str_param("name", "mnist", "Which data set.", allowed=KERAS_SETS),)

    def task(self, **params: Any) -> str | None:
        return "multiclass"

    def rank(self, **params: Any) -> int | None:
        return 3

    def load(self, **params: Any) -> Dataset:
        import keras

        name = params.get("name", "mnist")
        if name not in KERAS_SETS:
            raise DataError(f"expected one of {', '.join(KERAS_SETS)}. Received: name={name!r}")
        cached = keras_cache() / "datasets" / f"{name}.npz"
        try:
            if name == "mnist" and cached.exists():
                # the cached file as is: keras' own loader would re-download a file whose hash
                # differs from the official one (offline machines, trimmed copies for tests)
                with np.load(cached, allow_pickle=False) as f:
                    (x_train, y_train) = f["x_train"], f["y_train"]
                    (x_test, y_test) = f["x_test"], f["y_test"]
            else:
                (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
        except Exception as exc:
            raise DataError(
                f"keras.datasets.{name} could not be loaded (no internet and no "
                f"cached copy in $KERAS_HOME/datasets?): {exc}"
            ) from exc
        x = np.concatenate([x_train, x_test]).astype("float32")
        y = np.concatenate([np.ravel(y_train), np.ravel(y_test)])
        if x.ndim == 3:
            x = x[..., None]
        schema = {
            "format": "images",
            "input": "images (n, height, width, channels), pixels 0-255",
            "shape": list(x.shape[1:]),
        }
        return Dataset(x=x, y=y, task="multiclass", name=f"keras:{name}", schema=schema)


@hookimpl
def register_data_sources(register: Any) -> None:
    sources = (SklearnSource(), CsvSource(), NpzSource(), ImageFolderSource(), KerasSource())
    for source in (*sources, TextFolderSource()):
        register(source)
