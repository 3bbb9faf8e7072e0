"""In-memory data for `tune(x=..., y=...)` or `tune(data=frame, target=...)`, made into files.

The arrays (or the DataFrame) are written into the study's folder under a name made of their
content hash, next to a copy of the search space whose `data.source` points at them:

    runs/<study>/space.yaml            the space as given, with `data.source` and `study.name` set
    runs/<study>/data/<hash>.npz       arrays: x, y (and x_val, y_val: a fixed validation split)
    runs/<study>/data/<hash>.csv       a DataFrame, read by the `csv` source (column names, text)
    runs/<study>/data/<hash>.val.csv   its validation rows

So every process of a study reads the data through the ordinary `npz` or `csv` source: `--jobs`
workers, `isolation: process` children, a resumed run, and `automl export`, `report`, `trials`
on `runs/<study>/space.yaml` later. The same data gives the same names: running again resumes.
A study without `study.name` is named `<file stem or "data">-<first 8 hex digits of the hash>`, so
other data is another study; with a name, other data is refused as a changed search space.
"""

from __future__ import annotations

import copy
import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from automl.errors import DataError, Problem, SpecError
from automl.plugins import load_catalog
from automl.spec import (
    Problems,
    RawSpace,
    StudyModel,
    default_study_name,
    read_space,
    resolve,
    validate_section,
)
from automl.storage import runs_dir

SPACE_FILE = "space.yaml"


@dataclass(frozen=True)
class InMemoryData:
    """What `tune` was given instead of a `data.source`.

    Args:
        x, y: features (n, ...) and targets (n,): NumPy arrays, or `x` a pandas DataFrame of
            feature columns and `y` a Series.
        x_val, y_val: the fixed validation split (both or neither). Defaults to `None`: a random
            split of `data.validation` (or folds).
        data: a pandas DataFrame holding the features and the `target` column (instead of `x`,
            `y`); `x_val` is then a DataFrame with the same columns.
        target: the target column of `data`.
    """

    x: Any = None
    y: Any = None
    x_val: Any = None
    y_val: Any = None
    data: Any = None
    target: str | None = None

    def given(self) -> bool:
        """Whether any data was given."""
        return any(v is not None for v in (self.x, self.y, self.x_val, self.y_val, self.data))


@dataclass(frozen=True)
class _Files:
    """The files to write (name suffix -> writer) and the data source that reads them."""

    digest: str
    kind: str  # "npz" or "csv"
    contents: dict[str, Any]  # ".npz": {array name: array}; ".csv" / ".val.csv": text
    target: str | None = None

    def source(self, folder: Path) -> dict[str, Any]:
        """The `data.source` mapping for files in `folder`."""
        main = str(folder / f"{self.digest}.{self.kind}")
        if self.kind == "npz":
            return {"npz": {"path": main}}
        params: dict[str, Any] = {"path": main, "target": self.target}
        if ".val.csv" in self.contents:
            params["validation_path"] = str(folder / f"{self.digest}.val.csv")
        return {"csv": params}


def data_space(
    space: str | Path | Mapping[str, Any],
    given: InMemoryData,
    plugins: Iterable[str] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write `given` into the study's folder with a copy of `space` that reads it; its path.

    Problems of the space are reported against the space as given (its file and lines).

    Args:
        space: a YAML path or a dict, without `data.source`.
        given: the in-memory data.
        plugins: extra local plugins (`--plugin`); they stay extra (not written into the copy).
        overrides: keys to set in the `study` and `data` sections, over the space's own
            (`{"data": {"test": 0}}`). Defaults to `None`.
    """
    raw = read_space(space, plugins)
    overrides = overrides or {}
    study = raw.data.get("study")
    if overrides.get("study") and (study is None or isinstance(study, Mapping)):
        study = {**(study or {}), **overrides["study"]}
        raw = RawSpace({**raw.data, "study": study}, raw.lines, raw.source, raw.plugins)
    section = {**_data_section(raw), **overrides.get("data", {})}
    files = (
        _npz_files(given) if given.data is None and not _is_frame(given.x) else _csv_files(given)
    )
    name = _study_name(raw, files.digest)
    folder = runs_dir() / name
    _write_files(folder / "data", files)
    listed = raw.plugins[: len(raw.data.get("plugins") or [])]
    # checked as given (its file, its lines), reading the data from where it now is
    checked = {**raw.data, "data": {**section, "source": files.source(folder.resolve() / "data")}}
    resolve(RawSpace(checked, raw.lines, raw.source, raw.plugins), load_catalog(raw.plugins))
    copied = copy.deepcopy(dict(raw.data))
    copied["study"] = {**(copied.get("study") or {}), "name": name}
    copied["data"] = {**section, "source": files.source(Path("data"))}
    if listed:
        copied["plugins"] = [_absolute_plugin(p) for p in listed]
    path = folder / SPACE_FILE
    header = f"# written by automl.tune() from {raw.source or 'a dict'}: the data is in data/\n"
    _write_atomic(path, (header + _dump(copied, raw.source)).encode())
    return path


def _data_section(raw: RawSpace) -> dict[str, Any]:
    """The space's `data:` mapping (a copy), which must not name a source of its own."""
    section = raw.data.get("data")
    lines = Problems(raw.lines, raw.source)
    if section is not None and not isinstance(section, Mapping):
        lines.add(("data",), f"expected a mapping, got {type(section).__name__} {section!r}")
    elif section is not None and "source" in section:
        lines.add(
            ("data", "source"),
            "the data was given to tune() as arrays or a DataFrame: remove data.source from the "
            "space, or do not pass the data",
        )
    validate_section(lines, StudyModel, raw.data.get("study"), ("study",))  # a safe folder name
    lines.raise_if_any()
    return dict(section or {})


def _study_name(raw: RawSpace, digest: str) -> str:
    study = raw.data.get("study")
    if isinstance(study, Mapping) and isinstance(study.get("name"), str):
        return str(study["name"])
    stem = default_study_name(raw.source) if raw.source else "data"
    return f"{stem}-{digest[:8]}"


def _absolute_plugin(plugin: str) -> str:
    return str(Path(plugin).resolve()) if plugin.endswith(".py") else plugin


def _dump(data: dict[str, Any], source: str) -> str:
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError as exc:
        problem = f"a value that YAML cannot hold (plain numbers, strings, lists, dicts): {exc}"
        raise SpecError([Problem("", problem)], source) from None


# ------------------------------------------------------------------------------------ arrays
def _npz_files(given: InMemoryData) -> _Files:
    """x, y (and x_val, y_val) checked and hashed; names, dtypes and shapes are in the hash."""
    if given.x is None or given.y is None:
        raise DataError(
            "tune() needs both x and y (or data= a DataFrame and target=). Received: "
            f"x={_what(given.x)}, y={_what(given.y)}"
        )
    x = _features(given.x, "x")
    arrays = {"x": x, "y": _targets(given.y, "y", len(x))}
    if given.x_val is not None or given.y_val is not None:
        if given.x_val is None or given.y_val is None:
            raise DataError(
                "a fixed validation split needs both x_val and y_val. Received: "
                f"x_val={_what(given.x_val)}, y_val={_what(given.y_val)}"
            )
        x_val = _features(given.x_val, "x_val")
        if x_val.shape[1:] != x.shape[1:]:
            raise DataError(
                f"x_val rows must have the shape of x rows, {x.shape[1:]}. "
                f"Received: x_val.shape={x_val.shape}"
            )
        arrays.update(x_val=x_val, y_val=_targets(given.y_val, "y_val", len(x_val)))
    digest = hashlib.sha256()
    for key, array in arrays.items():
        digest.update(f"{key}:{array.dtype.str}:{array.shape};".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return _Files(digest.hexdigest()[:16], "npz", {".npz": arrays})


def _what(value: Any) -> str:
    return "None" if value is None else f"{type(value).__name__} of shape {np.shape(value)}"


def _features(value: Any, what: str) -> np.ndarray:
    x = np.asarray(value)
    if x.dtype.kind not in "biuf":
        raise DataError(
            f"{what} must hold numbers; for text or mixed columns pass a pandas DataFrame as "
            f"data= with target=. Received: {what}.dtype={x.dtype}"
        )
    if x.ndim < 2 or len(x) == 0:
        raise DataError(
            f"{what} must have shape (rows, features...) with at least one row. "
            f"Received: {what}.shape={x.shape}"
        )
    return x


def _targets(value: Any, what: str, rows: int) -> np.ndarray:
    y = np.asarray(value)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1 or len(y) != rows:
        raise DataError(
            f"{what} must have one target per row of x{what[1:]}: shape ({rows},). "
            f"Received: {what}.shape={y.shape}"
        )
    if y.dtype.kind == "O":  # labels as Python objects (e.g. from pandas): strings in the file
        missing = sum(v is None or (isinstance(v, float) and v != v) for v in y)
        if missing:
            raise DataError(f"{what} has {missing} missing targets; remove those rows")
        y = y.astype(str)
    if y.dtype.kind not in "biufUS":
        raise DataError(f"{what} must hold labels or numbers. Received: {what}.dtype={y.dtype}")
    return y


# -------------------------------------------------------------------------------- DataFrames
def _is_frame(value: Any) -> bool:
    return hasattr(value, "to_csv") and hasattr(value, "columns")


def _csv_files(given: InMemoryData) -> _Files:
    """A DataFrame (`data` + `target`, or `x` a DataFrame + `y`) as CSV text, hashed."""
    frame, target = _frame(given.data, given.x, given.y, given.target)
    contents = {".csv": _csv_text(frame)}
    if given.x_val is not None:  # with data=, x_val is a DataFrame with the target column too
        with_target = given.x_val if given.data is not None else None
        val, _ = _frame(with_target, given.x_val, given.y_val, target)
        if list(val.columns) != list(frame.columns):
            raise DataError(
                f"the validation DataFrame must have the columns of the training one, in order: "
                f"{list(frame.columns)}. Received: {list(val.columns)}"
            )
        contents[".val.csv"] = _csv_text(val)
    digest = hashlib.sha256("\0".join(contents.values()).encode()).hexdigest()[:16]
    return _Files(digest, "csv", contents, target)


def _frame(data: Any, x: Any, y: Any, target: str | None) -> tuple[Any, str]:
    """The DataFrame with its target column, from `data` + `target` or from `x` + `y`."""
    if data is not None:
        if not _is_frame(data):
            raise DataError(f"data= must be a pandas DataFrame. Received: {type(data).__name__}")
        columns = [str(c) for c in data.columns]
        if target is None or target not in columns:
            raise DataError(
                f"data= needs target=, the name of its target column. Columns: "
                f"{', '.join(columns)}. Received: target={target!r}"
            )
        return data, target
    if y is None:
        raise DataError("a DataFrame x needs y, the targets (or pass data= and target=)")
    name = target or (y.name if isinstance(getattr(y, "name", None), str) else "target")
    while name in x.columns:
        name += "_"
    return x.assign(**{name: np.asarray(y)}), name


def _csv_text(frame: Any) -> str:
    return str(frame.to_csv(index=False, lineterminator="\n"))


# ----------------------------------------------------------------------------------- writing
def _write_files(folder: Path, files: _Files) -> None:
    """Write each file once (its name is its content hash), atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, content in files.contents.items():
        path = folder / f"{files.digest}{suffix}"
        if path.exists():
            continue
        if suffix == ".npz":
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as handle:
                np.savez(handle, **content)
            os.replace(handle.name, path)
        else:
            _write_atomic(path, content.encode())


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, path)


__all__ = ["SPACE_FILE", "InMemoryData", "data_space"]
