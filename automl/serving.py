"""Use an exported model: `automl.load(DIR).predict(x)` and the input readers of `automl predict`.

Inputs are checked against the schema recorded in `model.json` (shape, dtype, column names)
before the model sees them, so a mismatch is a clear error naming what differs instead of a
shape error deep inside Keras. Only standard formats are read: CSV (the `csv` module), NPZ
(`allow_pickle=False`) and folders of PNG/JPEG/BMP/GIF images. The model is loaded in Keras
safe mode.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from automl.components import VALUES
from automl.custom_objects import plugin_packages
from automl.decision import class_indices
from automl.errors import ArtifactError, InputError
from automl.model_files import load_keras_model, read_card
from automl.plugins import load_catalog
from automl.trial import predict_output

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
# cells read as missing, as the `csv` data source reads them (NaN for numeric models)
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})


class LoadedModel:
    """An exported model with its card; `predict` gives labels (or values), `predict_proba` scores.

    Args:
        directory: the artifact directory `automl export` wrote.
        model: the Keras model loaded from `model.keras`.
        card: the parsed `model.json`.
    """

    def __init__(self, directory: Path, model: Any, card: dict[str, Any]) -> None:
        self.directory = directory
        self.model = model
        self.card = card
        self.task: str = card["task"]
        self.class_labels: list[str] | None = card.get("class_labels")
        self.threshold: float | None = (card.get("threshold") or {}).get("value")  # binary
        self.schema: dict[str, Any] = card.get("input_schema") or {
            "shape": card["input_shape"],
            "dtype": card.get("input_dtype", "float32"),
        }

    def __repr__(self) -> str:
        return (
            f"<LoadedModel {self.card.get('study')!r} trial {self.card.get('trial')} "
            f"({self.task}, input {tuple(self.schema['shape'])})>"
        )

    def check(self, x: Any) -> np.ndarray:
        """`x` as the array the model expects; raises `InputError` naming the mismatch."""
        return check_input(x, self.schema)

    def predict_proba(self, x: Any) -> np.ndarray:
        """Class probabilities, shape (n, classes), columns in `class_labels` order."""
        if self.task in VALUES:
            raise InputError(f"predict_proba needs a classifier; this model is a {self.task} model")
        return self._output(x)

    def predict(self, x: Any) -> np.ndarray:
        """Class labels (strings; a binary model's at its tuned `threshold`); predicted values for
        regression, shape (n, horizon) for a forecast."""
        out = self._output(x)
        return out if self.task in VALUES else self.labels_of(out)

    def labels_of(self, proba: np.ndarray) -> np.ndarray:
        """The labels `predict` gives for these `predict_proba` rows."""
        labels = np.asarray(self.class_labels or [str(i) for i in range(proba.shape[1])])
        return labels[class_indices(proba, self.threshold)]

    def _output(self, x: Any) -> np.ndarray:
        return predict_output(self.model, self.check(x), self.task)


def load(directory: str | Path, plugins: tuple[str, ...] = ()) -> LoadedModel:
    """Load an artifact directory written by `automl export` (Keras safe mode).

    Args:
        directory: the directory `automl export` wrote.
        plugins: local plugin modules or .py files whose custom Keras classes the model uses
            (installed and built-in plugins are loaded anyway). Defaults to `()`.
    """
    directory = Path(directory)
    card_path, model_path = directory / "model.json", directory / "model.keras"
    for path in (card_path, model_path):
        if not path.is_file():
            raise ArtifactError(
                f"{directory} is not an exported model: expected {path.name} in it. "
                f"Received: directory={str(directory)!r}"
            )
    card = read_card(card_path)
    catalog = load_catalog(plugins)  # importing the plugins registers their custom Keras classes
    model = load_keras_model(model_path, card, plugin_packages(catalog))
    return LoadedModel(directory, model, card)


def check_input(x: Any, schema: dict[str, Any]) -> np.ndarray:
    """Validate `x` against the recorded shape and dtype; one example gets a batch axis."""
    shape = _shape(schema)
    string_model = schema.get("dtype") == "string"
    arr = np.asarray(x)
    if arr.dtype == object and not string_model:
        raise InputError(
            f"expected numeric inputs (float32) of shape (n, {', '.join(map(str, shape))}). "
            "Received: an object array (mixed or missing values?)"
        )
    if arr.shape == shape:
        arr = arr[None, ...]
    if arr.shape[1:] != shape:
        raise InputError(
            f"expected inputs of shape (n, {', '.join(map(str, shape))}) as recorded at export. "
            f"Received: shape={arr.shape}"
        )
    if string_model:
        return arr.astype(str).astype(object)
    if arr.dtype.kind not in "iufb":
        raise InputError(
            f"expected numeric inputs (float32) as recorded at export. Received: dtype={arr.dtype}"
        )
    # NaN passes: a model trained on data with missing values imputes them in its preprocessors
    return arr.astype("float32")


# --- readers for `automl predict` --------------------------------------------------------------


def read_input(path: str | Path, schema: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    """Read CSV, NPZ or an image folder into an array matching `schema`, with one id per row."""
    path = Path(path)
    if path.is_dir():
        return read_image_folder(path, schema)
    if not path.is_file():
        raise InputError(f"no such input file or folder. Received: input={str(path)!r}")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return read_csv(path, schema)
    if suffix == ".npz":
        return read_npz(path, schema)
    raise InputError(
        f"expected a .csv file, a .npz file or a folder of images. Received: input={str(path)!r}"
    )


def read_csv(path: Path, schema: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    """Columns are matched by name when the model recorded column names (order may differ)."""
    shape = _shape(schema)
    if len(shape) != 1:
        raise InputError(
            f"this model takes inputs of shape {shape}, not table rows: use an .npz file"
            + (" or an image folder" if len(shape) == 3 else "")
            + f". Received: input={str(path)!r}"
        )
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if row]
    if not rows:
        raise InputError(f"{path} has no rows")
    names: list[str] | None = schema.get("feature_names")
    if names:
        order, labels, first_line = _columns_by_name(path, rows[0], names, schema), names, 2
    else:  # no names recorded: columns by position, with or without a header line
        order = _columns_by_position(path, rows[0], shape[0])
        labels = [f"column {i}" for i in order]
        first_line = 1 if _all_numbers(rows[0]) else 2
    if len(rows) < first_line:
        raise InputError(f"{path} has a header but no data rows")
    x = _parse_rows(path, rows, first_line, order, labels, schema.get("dtype") == "string")
    return x, [str(i) for i in range(len(x))]


def _columns_by_name(
    path: Path, header: list[str], names: list[str], schema: dict[str, Any]
) -> list[int]:
    """For each recorded column name, its index in `header`; the target column may be present."""
    header = [h.strip() for h in header]
    missing = [n for n in names if n not in header]
    ignored = {
        schema.get("target"),
        schema.get("target_column"),
        *schema.get("dropped_columns", ()),
        *schema.get("ignored", ()),  # the columns a text source does not use
    }
    extra = [h for h in header if h not in names and h not in ignored]
    if missing or extra:
        parts = [f"missing columns {missing}"] if missing else []
        parts += [f"unexpected columns {extra}"] if extra else []
        raise InputError(
            f"{path}: the columns do not match the model's ({len(names)} columns recorded at "
            f"export): {'; '.join(parts)}"
        )
    return [header.index(n) for n in names]


def _columns_by_position(path: Path, first_row: list[str], width: int) -> list[int]:
    """Columns 0..width-1, once the first line is known to have exactly `width` fields."""
    if len(first_row) != width:
        raise InputError(
            f"{path}: expected {width} columns as recorded at export. "
            f"Received: {len(first_row)} columns"
        )
    return list(range(width))


def _parse_rows(
    path: Path,
    rows: list[list[str]],
    first_line: int,
    order: list[int],
    labels: list[str],
    string_model: bool,
) -> np.ndarray:
    """The data rows (from line `first_line` on) as the model's columns: cells or floats."""
    out: list[list[Any]] = []
    for line, row in enumerate(rows[first_line - 1 :], start=first_line):
        if len(row) != len(rows[0]):
            raise InputError(
                f"{path}, line {line}: expected {len(rows[0])} fields like the first line. "
                f"Received: {len(row)} fields"
            )
        values = [_clean(row[i]) for i in order]
        if string_model:
            out.append(values)
            continue
        try:
            out.append([float(v) if v else float("nan") for v in values])
        except ValueError:
            j = next(j for j, v in enumerate(values) if not _is_number(v))
            raise InputError(
                f"{path}, line {line}, column {labels[j]!r}: expected a number. "
                f"Received: {row[order[j]].strip()!r}"
            ) from None
    return np.asarray(out, dtype=object if string_model else "float32")


def _shape(schema: dict[str, Any]) -> tuple[int, ...]:
    """The recorded shape of one example."""
    return tuple(int(d) for d in schema["shape"])


def _clean(cell: str) -> str:
    """The cell without surrounding spaces; a missing-value marker becomes ''."""
    cell = cell.strip()
    return "" if cell.lower() in MISSING_MARKERS else cell


def _is_number(text: str) -> bool:
    """A number or a missing cell (read as NaN)."""
    if _clean(text) == "":
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def _all_numbers(row: list[str]) -> bool:
    """A line of numbers only: data, not a header."""
    return all(_is_number(v) for v in row)


def read_npz(path: Path, schema: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    """The array `x` (or the only array) of an .npz file; pickled objects are refused."""
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.keys())
            key = "x" if "x" in keys else keys[0] if len(keys) == 1 else None
            if key is None:
                raise InputError(
                    f"{path}: expected an array named 'x' (or a single array). Received: {keys}"
                )
            x = data[key]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(
                f"{path} holds Python objects, which would need pickle to load: refused. "
                "Save plain numeric arrays (np.savez(path, x=array))."
            ) from exc
        raise InputError(f"{path} is not a readable .npz file: {exc}") from exc
    x = check_input(x, schema)
    return x, [str(i) for i in range(len(x))]


def read_image_folder(folder: Path, schema: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    """Every image under `folder` (sorted), decoded to the recorded height, width and channels.

    Pixels are floats in 0..255 (as the `image_folder` data source gives them), times `rescale`
    when the export recorded one. A model trained on an image folder resizes each image to its
    size as training did; for other image models an image of another size is an error.
    """
    shape = _shape(schema)
    if len(shape) != 3:
        raise InputError(
            f"an image folder needs a model that takes images (height, width, channels). "
            f"Received: a folder for a model with input shape {shape}"
        )
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(
            f"{folder} has no images ({', '.join(IMAGE_SUFFIXES)}). Received: input={str(folder)!r}"
        )
    import tensorflow as tf  # decoding only: TensorFlow is a dependency; imported lazily

    height, width, channels = shape
    images = []
    for file in files:
        try:
            image = tf.io.decode_image(
                tf.io.read_file(str(file)), channels=channels, expand_animations=False
            ).numpy()
        except Exception as exc:  # tf raises InvalidArgumentError on a broken file
            raise InputError(f"{file} is not a readable image: {exc}") from exc
        if image.shape[:2] != (height, width) and schema.get("format") == "images":
            image = tf.image.resize(image, (height, width)).numpy()  # as the source resized
        elif image.shape[:2] != (height, width):
            raise InputError(
                f"{file}: expected images of {height}x{width} pixels as recorded at export. "
                f"Received: {image.shape[0]}x{image.shape[1]}"
            )
        images.append(image)
    x = np.stack(images).astype("float32")
    rescale = schema.get("rescale")
    if rescale:
        x = x * float(rescale)
    return x, [str(f.relative_to(folder)) for f in files]


def write_predictions(
    model: LoadedModel, x: np.ndarray, ids: list[str], out: str | Path | None
) -> str | None:
    """Predict and write CSV (or .npz) to `out`; without `out`, return the CSV text."""
    # arrays by name for .npz (Any: numpy's stub reads a **dict[str, ndarray] as allow_pickle)
    arrays: dict[str, Any] = {"id": np.asarray(ids)}
    columns: dict[str, np.ndarray] = dict(arrays)
    if model.task in VALUES:  # a forecast: one column per step, value_1 ... value_<horizon>
        values = arrays["value"] = model.predict(x)
        steps = values.reshape(len(values), -1).T
        columns.update({"value": values} if values.ndim == 1 else
                       {f"value_{k + 1}": step for k, step in enumerate(steps)})  # fmt: skip
    else:
        proba = model.predict_proba(x)
        labels = model.class_labels or [str(i) for i in range(proba.shape[1])]
        arrays["label"] = columns["label"] = model.labels_of(proba)
        arrays["probabilities"] = proba
        arrays["class_labels"] = np.asarray(labels)
        columns.update({f"p_{label}": proba[:, i] for i, label in enumerate(labels)})
    if out is not None and Path(out).suffix.lower() == ".npz":
        np.savez(out, **arrays)
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(columns))
    for i in range(len(ids)):
        writer.writerow(
            [f"{v[i]:.6g}" if isinstance(v[i], np.floating) else v[i] for v in columns.values()]
        )
    if out is None:
        return buffer.getvalue()
    Path(out).write_text(buffer.getvalue())
    return None
