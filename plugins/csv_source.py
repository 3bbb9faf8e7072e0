"""The `csv` data source: a CSV file with numeric and text columns, missing cells and a target.

Registered by `automl_plugins.data_sources`. What a user gets wrong with a CSV file is said in
one paragraph naming the file (and the line or the columns): a folder instead of a file, another
text encoding (the `encoding` option), a first line that is data rather than a header (the
`header` option), rows of different lengths, a missing target. Columns whose every cell is
missing are dropped with a warning naming them.

Columns of free text (reviews, messages) are declared with `text: [review]`: they are then the
only features, kept as raw strings for a text preprocessor (`text_vectorization`). An undeclared
column that looks like free text is refused, since one-hot encoding it would make each sentence
its own category.
"""

from __future__ import annotations

import codecs
import csv
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from automl.components import BaseDataSource, bool_param, list_param, str_param
from automl.data import Dataset, infer_task
from automl.errors import AutoMLError, DataError
from automl.registry import did_you_mean
from automl_plugins.preprocessors import MISSING_MARKERS
from automl_plugins.text import string_tensor_problem

#: a string column looks like free text (not categories) when most rows are distinct and the
#: typical cell has at least this many words
FREE_TEXT_WORDS = 3
FREE_TEXT_DISTINCT = 0.5


def data_file(path: Any, source: str, folder: bool = False) -> Path:
    """The existing file (or folder) a data source reads; a clear `DataError` otherwise."""
    what = "folder" if folder else "file"
    if not path:
        raise DataError(f"the {source} data source needs `path`. Received: path={path!r}")
    p = Path(path)
    if not p.exists():
        raise DataError(
            f"{source} {what} not found: {p} (relative paths are relative to the YAML file)"
        )
    if p.is_dir() != folder:
        found = "a folder" if p.is_dir() else "a file"
        raise DataError(f"{p}: the {source} data source expected a {what}, got {found}")
    return p


def clean(cell: str) -> str:
    """The cell without surrounding spaces; a missing-value marker becomes ''."""
    cell = cell.strip()
    return "" if cell.lower() in MISSING_MARKERS else cell


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def numeric_columns(rows: list[list[str]], width: int) -> list[bool]:
    """For each column: every present cell of `rows` is a number (and at least one is)."""
    out = []
    for j in range(width):
        present = [c for c in (clean(r[j]) for r in rows) if c]
        out.append(bool(present) and all(_is_number(c) for c in present))
    return out


def read_text(path: Path, encoding: str) -> str:
    """The decoded text of `path`; another encoding than the file's is a `DataError`."""
    try:
        codec = codecs.lookup(encoding or "utf-8").name
    except LookupError:
        raise DataError(
            f"{path}: unknown text encoding. Expected a Python codec name such as utf-8, "
            f"latin-1 or cp1252. Received: encoding={encoding!r}"
        ) from None
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}, line {line}: expected text in {codec}, got the byte "
            f"{raw[exc.start]:#04x}. Set the file's encoding in data.source.csv "
            "(e.g. `encoding: latin-1` or `encoding: cp1252`)"
        ) from None


class CsvSource(BaseDataSource):
    """A CSV file: numeric and categorical columns, missing values, a target column."""

    name = "csv"
    help = (
        "A CSV file; `target` names the label column. Numeric columns become "
        "numbers (missing -> NaN); with any text column, rows stay text for impute/one_hot; "
        "`text` columns (free text) stay raw strings for a text preprocessor."
    )
    params = (
        str_param("path", "", "The CSV file (relative to the YAML file)."),
        str_param("target", "", "The target column. Defaults to the last column."),
        str_param("delimiter", ",", "Field separator."),
        bool_param(
            "header",
            True,
            "The first line names the columns; with false every line is data and the columns "
            "are column_1 ... column_N.",
        ),
        str_param("encoding", "utf-8", "The file's text encoding (utf-8, latin-1, cp1252, ...)."),
        str_param(
            "validation_path",
            "",
            "A second CSV with the same header: the fixed validation split (no random one).",
        ),
        list_param(
            "text",
            "Columns of free text (reviews, messages) for a text preprocessor; when given, "
            "they are the only features.",
        ),
    )

    def _read(self, params: dict[str, Any]) -> tuple[list[str], list[list[str]], Path]:
        path = data_file(params.get("path"), "csv")
        text = read_text(path, params.get("encoding", "utf-8"))
        try:
            rows = list(csv.reader(io.StringIO(text), delimiter=params.get("delimiter") or ","))
        except (csv.Error, TypeError) as exc:
            raise DataError(f"{path}: not a readable CSV file: {exc}") from None
        rows = [r for r in rows if any(cell.strip() for cell in r)]
        if params.get("header", True):
            header, data = ([h.strip() for h in rows[0]], rows[1:]) if rows else ([], [])
        else:
            header, data = [f"column_{j + 1}" for j in range(len(rows[0]) if rows else 0)], rows
        _check_shape(path, header, data, bool(params.get("header", True)))
        return header, data, path

    def _target_index(self, header: list[str], params: dict[str, Any], path: Path) -> int:
        target = params.get("target") or header[-1]
        if target not in header:
            did = did_you_mean(target, header)
            raise DataError(
                f"{path}: no target column {target!r}{did} Columns: {', '.join(header)}"
            )
        return header.index(target)

    def _targets(self, rows: list[list[str]], t: int, path: Path) -> np.ndarray:
        raw = [clean(r[t]) for r in rows]
        missing = [i for i, v in enumerate(raw) if v == ""]
        if missing:
            raise DataError(
                f"{path}: the target column has {len(missing)} missing values (first on data "
                f"row {missing[0] + 1}); remove those rows (automl does not impute targets)"
            )
        try:
            return np.asarray([float(v) for v in raw])
        except ValueError:
            return np.asarray(raw)

    def task(self, **params: Any) -> str | None:
        header, rows, path = self._read(params)
        rows = rows + self._validation_rows(header, params)
        return infer_task(self._targets(rows, self._target_index(header, params, path), path))

    def _validation_rows(self, header: list[str], params: dict[str, Any]) -> list[list[str]]:
        """The rows of `validation_path` (same columns as `path`, in the same order)."""
        if not params.get("validation_path"):
            return []
        other, rows, path = self._read({**params, "path": params["validation_path"]})
        if other != header:
            raise DataError(
                f"{path}: expected the header of {params['path']}: {header}. Received: {other}"
            )
        return rows

    def rank(self, **params: Any) -> int | None:
        return 1  # one row of columns per example (text columns: one string per column)

    def text_columns(self, **params: Any) -> tuple[str, ...]:
        header, rows, path = self._read(params)
        rows = rows + self._validation_rows(header, params)
        t = self._target_index(header, params, path)
        names = text_column_names(header, params.get("text"), t, path)
        if not names:  # refuse free text that was not declared
            others = [i for i in range(len(header)) if i != t]
            cells = np.asarray([[clean(r[i]) for i in others] for r in rows], dtype=str)
            numeric = numeric_columns(cells.tolist(), len(others))
            _refuse_free_text(path, [header[i] for i in others], cells, numeric)
        return tuple(names)

    def load(self, **params: Any) -> Dataset:
        header, rows, path = self._read(params)
        n_val = len(validation := self._validation_rows(header, params))
        rows = rows + validation  # the fixed validation rows go last, and are marked
        t = self._target_index(header, params, path)
        y = self._targets(rows, t, path)
        text = text_column_names(header, params.get("text"), t, path)
        if text:
            x, names, schema = text_features(path, header, rows, t, text)
        else:
            x, names, schema = _tabular(path, header, rows, t)
        problem = string_tensor_problem(str(path)) if x.dtype == object else None
        if problem:
            raise AutoMLError(problem)  # a setting (the Keras backend), not the data
        validation_rows = np.arange(len(rows) - n_val, len(rows)) if n_val else None
        return Dataset(
            x=x,
            y=y,
            name=f"csv:{path.name}",
            feature_names=names,
            schema=schema,
            validation_rows=validation_rows,
        )


def _tabular(
    path: Path, header: list[str], rows: list[list[str]], t: int
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """Numeric and categorical columns (empty ones dropped); free text is refused."""
    kept = _drop_empty_columns(path, header, rows, t)
    names = [header[i] for i in kept]
    cells = np.asarray([[clean(r[i]) for i in kept] for r in rows], dtype=str)
    numeric = numeric_columns(cells.tolist(), len(kept)) if kept else []
    _refuse_free_text(path, names, cells, numeric)
    columns = [
        {"name": n, "kind": "numeric" if num else "categorical", "missing": int(miss)}
        for n, num, miss in zip(names, numeric, (cells == "").sum(axis=0), strict=True)
    ]
    if all(numeric):
        x: np.ndarray = np.where(cells == "", "nan", cells).astype("float32")
        layout = "float32 matrix (rows, columns); missing values as NaN"
    else:
        x = cells.astype(object)
        layout = "string matrix (rows, columns) of the raw cells; missing values as ''"
    schema = {"format": "csv", "columns": columns, "target": header[t], "input": layout}
    dropped = [h for i, h in enumerate(header) if i != t and i not in kept]
    if dropped:
        schema["dropped_columns"] = dropped
    return x, names, schema


def free_text(column: np.ndarray) -> str | None:
    """Why a string column looks like free text rather than categories, or None when it does not.

    One-hot encoding such a column makes every sentence its own category, which learns nothing.
    """
    cells = [str(c) for c in column if str(c) != ""]
    if len(cells) < 10:
        return None
    distinct = len(set(cells)) / len(cells)
    words = float(np.median([len(c.split()) for c in cells]))
    if distinct < FREE_TEXT_DISTINCT or words < FREE_TEXT_WORDS:
        return None
    return f"{len(set(cells))} distinct values in {len(cells)} rows, {words:g} words per cell"


def _refuse_free_text(path: Path, names: list[str], cells: np.ndarray, numeric: list[bool]) -> None:
    """A `DataError` for the first non-numeric column that looks like free text."""
    for j, name in enumerate(names):
        why = None if numeric[j] else free_text(cells[:, j])
        if why:
            raise DataError(
                f"{path}: column {name!r} looks like free text ({why}); one-hot encoding "
                f"would make each sentence its own category. Declare it as text (csv: "
                f"{{..., text: [{name}]}}) and add a text preprocessor (preprocessors: "
                "[text_vectorization])"
            )


def text_column_names(header: list[str], text: Any, target: int, path: Path) -> list[str]:
    """The `text` columns a csv source declares, checked against its header."""
    names = list(text or [])
    for name in names:
        if name not in header:
            raise DataError(
                f"{path}: no text column {name!r}{did_you_mean(name, header)} "
                f"Columns: {', '.join(header)}"
            )
        if name == header[target]:
            raise DataError(f"{path}: the target column {name!r} cannot also be a text column")
    return names


def text_features(
    path: Path, header: list[str], rows: list[list[str]], target: int, text: list[str]
) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """The declared text columns as raw strings (missing cells ''); the others are not used."""
    index = [header.index(name) for name in text]
    x = np.asarray([[clean(r[i]) for i in index] for r in rows], dtype=object)
    missing = (x == "").sum(axis=0)
    if (missing == len(x)).all():
        raise DataError(f"{path}: every text column is empty (every cell missing): {text}")
    columns = [
        {"name": name, "kind": "text", "missing": int(miss)}
        for name, miss in zip(text, missing, strict=True)
    ]
    schema = {
        "format": "csv",
        "kind": "text",
        "columns": columns,
        "target": header[target],
        "ignored": [h for i, h in enumerate(header) if i != target and h not in text],
        "input": "string matrix (rows, text columns) of raw text; missing values as ''",
    }
    return x, list(text), schema


def _check_shape(path: Path, header: list[str], data: list[list[str]], has_header: bool) -> None:
    """At least one data row and two columns, rows as long as the header, a header that names."""
    if not data:
        raise DataError(
            f"{path}: expected {'a header line and ' if has_header else ''}at least one data "
            f"row. Received: {len(data) + int(has_header and bool(header))} non-empty lines"
        )
    if len(header) < 2:
        raise DataError(
            f"{path}: expected at least 2 columns (features and a target). "
            f"Received: {len(header)} column ({header}); is `delimiter` right?"
        )
    for i, row in enumerate(data, start=2 if has_header else 1):
        if len(row) != len(header):
            first = "the header" if has_header else "the first line"
            raise DataError(f"{path}: line {i} has {len(row)} fields, {first} has {len(header)}")
    if has_header:
        _check_header(path, header, data)


def _check_header(path: Path, header: list[str], data: list[list[str]]) -> None:
    """A header whose every numeric column is named by a number is data: say so."""
    numeric = numeric_columns(data, len(header))
    named = [h for h, num in zip(header, numeric, strict=True) if num]
    if named and all(_is_number(h) or clean(h) == "" for h in named):
        raise DataError(
            f"{path}: the first line looks like data, not a header: it has numbers where the "
            f"column names should be ({', '.join(repr(h) for h in header[:5])}"
            f"{', ...' if len(header) > 5 else ''}). If the file has no header line, set "
            "`header: false` in data.source.csv (the columns are then column_1 ... column_N)"
        )
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise DataError(f"{path}: the header names a column twice: {', '.join(duplicates)}")


def _drop_empty_columns(path: Path, header: list[str], rows: list[list[str]], t: int) -> list[int]:
    """The feature columns to keep: one whose every cell is missing is dropped, with a warning."""
    kept, empty = [], []
    for i, name in enumerate(header):
        if i == t:
            continue
        if all(clean(r[i]) == "" for r in rows):
            empty.append(name)
        else:
            kept.append(i)
    if empty:
        warnings.warn(
            f"{path}: {len(empty)} empty column(s) dropped (every cell missing): "
            f"{', '.join(repr(n) for n in empty)}",
            stacklevel=2,
        )
    if not kept:
        raise DataError(f"{path}: every feature column is empty (every cell missing)")
    return kept
