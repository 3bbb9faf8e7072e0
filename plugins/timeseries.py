"""The `timeseries` data source: a series cut into windows for `task: forecast`.

A CSV file (a header, a time column, value columns) or an NPZ file (one 1-D array per column,
named by its key) is read in time order; every `stride` rows a window of the last `window` rows of
the chosen columns is an input, and the next `horizon` values of the target column are its
targets. The data set is ordered: the core never shuffles it, validation and test are its last
stretches, and a gap of windows keeps every validation row after every training row.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from automl import hookimpl
from automl.components import BaseDataSource, int_param, str_param
from automl.data import Dataset
from automl.errors import DataError
from automl.registry import closest
from automl_plugins.csv_source import data_file
from automl_plugins.preprocessors import MISSING_MARKERS


class Table:
    """A file's columns in file order, with how to name a row in an error ("line 7", "row 5")."""

    def __init__(
        self, path: Path, names: list[str], columns: dict[str, np.ndarray], csv_file: bool
    ):
        self.path, self.names, self.columns, self.csv_file = path, names, columns, csv_file

    def where(self, row: int) -> str:
        """The place of data row `row` (0-based) in the file."""
        return f"line {row + 2}" if self.csv_file else f"row {row}"

    def column(self, name: str, what: str) -> np.ndarray:
        """The column `name`; an unknown name is an error listing the columns."""
        if name not in self.columns:
            hint = closest(name, self.names)
            did = f"; did you mean {hint!r}?" if hint else "."
            raise DataError(
                f"{self.path}: no {what} column {name!r}{did} Columns: {', '.join(self.names)}"
            )
        return self.columns[name]


def read_table(path_param: Any) -> Table:
    """The columns of a `.csv` (header row) or `.npz` (one 1-D array per column) file."""
    path = data_file(path_param, "timeseries")
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    with path.open(newline="") as handle:
        rows = [r for r in csv.reader(handle) if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise DataError(f"{path}: expected a header row and data rows. Received: {len(rows)} rows")
    names = [h.strip() for h in rows[0]]
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(names):
            raise DataError(f"{path}: line {i} has {len(row)} fields, the header has {len(names)}")
    cells = np.asarray([[c.strip() for c in r] for r in rows[1:]], dtype=str)
    return Table(path, names, {n: cells[:, j] for j, n in enumerate(names)}, csv_file=True)


def _read_npz(path: Path) -> Table:
    with np.load(path, allow_pickle=False) as data:
        columns = {key: np.asarray(data[key]) for key in data.files}
    lengths = {key: (a.ndim, len(a) if a.ndim else 0) for key, a in columns.items()}
    if not columns or any(nd != 1 for nd, _ in lengths.values()):
        raise DataError(
            f"{path}: expected one 1-D array per column (np.savez(path, date=..., sales=...)). "
            f"Received: { ({k: columns[k].shape for k in columns}) }"
        )
    if len({n for _, n in lengths.values()}) > 1:
        raise DataError(f"{path}: the columns differ in length: {lengths}")
    return Table(path, list(columns), columns, csv_file=False)


def _number(cell: str) -> float:
    """A cell as a number; NaN when missing or not a number."""
    if cell.lower() in MISSING_MARKERS:
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return math.nan


def _numbers(table: Table, name: str, what: str) -> np.ndarray:
    """Column `name` as float64; a missing or non-numeric cell is an error naming its row."""
    raw = table.column(name, what)
    if raw.dtype.kind in "iufb":
        values = raw.astype("float64")
        bad = np.flatnonzero(~np.isfinite(values))
    else:
        values = np.asarray([_number(str(cell)) for cell in raw], dtype="float64")
        bad = np.flatnonzero(np.isnan(values))
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"{table.path}, {table.where(i)}, column {name!r}: expected a number (a forecast needs "
            f"every value; fill or drop missing rows). Received: {str(raw[i])!r}"
        )
    return values


def _times(table: Table, name: str) -> np.ndarray:
    """The time column as numbers or datetimes, checked to increase strictly."""
    raw = table.column(name, "time")
    try:
        times = raw.astype("float64") if raw.dtype.kind in "iuf" else raw.astype("datetime64")
    except ValueError:
        try:
            times = raw.astype("float64")
        except ValueError:
            raise DataError(
                f"{table.path}: the time column {name!r} must hold numbers or ISO dates "
                f"(2024-01-31, 2024-01-31T08:00). Received: {str(raw[0])!r}, ..."
            ) from None
    later = times[1:] > times[:-1]
    if not np.all(later):
        i = int(np.flatnonzero(~later)[0]) + 1
        raise DataError(
            f"{table.path}, {table.where(i)}: rows must be in increasing time order, but "
            f"{name}={str(raw[i])!r} does not come after {str(raw[i - 1])!r} "
            f"({table.where(i - 1)}). Sort the file by {name!r}"
        )
    return times


def _is_time_like(column: np.ndarray) -> bool:
    if column.dtype.kind == "M":
        return True
    if column.dtype.kind in "iufb":
        return False
    try:
        column[:1].astype("float64")
    except ValueError:
        return True
    return False


class TimeseriesSource(BaseDataSource):
    """A CSV or NPZ series -> windows of `window` rows in, the next `horizon` values out."""

    name = "timeseries"
    help = (
        "A series (CSV with a time column, or NPZ with one array per column) cut into windows: "
        "`window` past rows in, the next `horizon` target values out (task: forecast)."
    )
    tasks = ("forecast",)
    params = (
        str_param("path", "", "The .csv or .npz file (relative to the YAML file)."),
        str_param(
            "time",
            "",
            "The time column (rows in increasing time order). Defaults to the first column when "
            "it holds dates; none: the row order.",
        ),
        str_param("target", "", "The column to forecast. Defaults to the last column."),
        str_param(
            "columns",
            "",
            "Comma-separated columns the model sees (the target is always one). Defaults to every "
            "column but the time.",
        ),
        int_param("window", 24, "Past rows each forecast sees.", bounds=(1, None)),
        int_param("horizon", 1, "Future target values forecast at once.", bounds=(1, None)),
        int_param("stride", 1, "Rows between the starts of two windows.", bounds=(1, None)),
        int_param(
            "period",
            1,
            "The seasonal period (7 for daily data with a weekly pattern) of the seasonal-naive "
            "baseline and MASE; 1 = none. At most `window`.",
            bounds=(1, None),
        ),
    )

    def task(self, **params: Any) -> str | None:
        self._layout(read_table(params.get("path")), {**self.defaults(), **params})
        return "forecast"

    def rank(self, **params: Any) -> int | None:
        return 2  # a window: (window rows, columns)

    def _layout(self, table: Table, p: dict[str, Any]) -> tuple[str | None, list[str], str]:
        """The time column (or None), the input columns and the target, checked."""
        time = p["time"] or (
            table.names[0] if _is_time_like(table.column(table.names[0], "")) else None
        )
        if time:
            table.column(time, "time")
        values = [n for n in table.names if n != time]
        target = p["target"] or (values[-1] if values else "")
        table.column(target, "target")
        wanted = [c.strip() for c in p["columns"].split(",") if c.strip()] or values
        for name in wanted:
            table.column(name, "input")
        columns = wanted if target in wanted else [*wanted, target]
        if p["period"] > p["window"]:
            raise DataError(
                f"{table.path}: `period <= window` must hold (the seasonal naive baseline reads "
                f"the value one period back in the window), but got (period={p['period']}, "
                f"window={p['window']})"
            )
        return time, columns, target

    def load(self, **params: Any) -> Dataset:
        p = {**self.defaults(), **params}
        table = read_table(p["path"])
        time, columns, target = self._layout(table, p)
        rows = len(table.columns[table.names[0]])
        if time:
            _times(table, time)
        values = np.stack([_numbers(table, c, "input") for c in columns], axis=1)
        window, horizon, stride = p["window"], p["horizon"], p["stride"]
        starts = np.arange(0, rows - window - horizon + 1, stride)
        if len(starts) < 2:
            raise DataError(
                f"{table.path}: {rows} rows give {len(starts)} windows of window + horizon = "
                f"{window + horizon} rows; expected many more. Lower window or horizon"
            )
        j = columns.index(target)
        x = np.stack([values[s : s + window] for s in starts]).astype("float32")
        y = np.stack([values[s + window : s + window + horizon, j] for s in starts])
        schema = {
            "format": "timeseries",
            "input": f"windows (n, {window}, {len(columns)}): the last {window} rows of columns",
            "columns": columns,
            "time": time,
            "target": target,
            "target_index": j,
            "window": window,
            "horizon": horizon,
            "stride": stride,
            "period": p["period"],
        }
        return Dataset(
            x=x,
            y=y.astype("float32"),
            task="forecast",
            name=f"timeseries:{table.path.name}",
            feature_names=columns,
            schema=schema,
            ordered=True,
            # windows dropped between training and validation/test: no row in both
            gap=math.ceil((window + horizon - 1) / stride),
        )


@hookimpl
def register_data_sources(register: Any) -> None:
    register(TimeseriesSource())
