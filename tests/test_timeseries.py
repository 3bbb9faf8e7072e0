"""The `timeseries` data source: windows from CSV and NPZ series, time splits that never leak."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from automl.data import partition_dataset
from automl.errors import AutoMLError, SpecError
from automl.spec import load_spec


def write_series(path: Path, rows: int = 40, start: dt.date = dt.date(2024, 1, 1)) -> Path:
    """Columns `date`, `temp` (= 100 + the day number) and `sales` (= the day number): a window's
    values say which days it holds."""
    lines = ["date,temp,sales"]
    for day in range(rows):
        lines.append(f"{(start + dt.timedelta(days=day)).isoformat()},{100 + day},{day}")
    path.write_text("\n".join(lines) + "\n")
    return path


def load(catalog: Any, **params: Any) -> Any:
    source = catalog["data_source"].get("timeseries")
    return source.load(**{**source.defaults(), **params})


def test_csv_windows_hold_the_past_rows_and_the_next_values(catalog: Any, tmp_path: Path) -> None:
    path = write_series(tmp_path / "s.csv", rows=12)
    data = load(catalog, path=str(path), window=3, horizon=2)
    assert (data.task, data.ordered) == ("forecast", True)
    assert data.x.shape == (12 - 3 - 2 + 1, 3, 2)  # every start with 3 rows in and 2 out
    assert data.y.shape == (8, 2)
    np.testing.assert_array_equal(data.x[4], [[104, 4], [105, 5], [106, 6]])
    np.testing.assert_array_equal(data.y[4], [7, 8])
    assert data.feature_names == ["temp", "sales"]
    assert data.schema["time"] == "date"  # the first column holds dates
    assert (data.schema["target"], data.schema["target_index"]) == ("sales", 1)
    assert data.gap == 3 + 2 - 1  # windows between training and validation: no shared row


def test_stride_columns_and_target(catalog: Any, tmp_path: Path) -> None:
    path = write_series(tmp_path / "s.csv", rows=20)
    data = load(
        catalog, path=str(path), window=4, horizon=1, stride=3, target="temp", columns="sales"
    )
    assert data.feature_names == ["sales", "temp"]  # the target is always an input
    np.testing.assert_array_equal(data.x[:, 0, 0], [0, 3, 6, 9, 12, 15])  # a start every 3 rows
    np.testing.assert_array_equal(data.y[:, 0], [104, 107, 110, 113, 116, 119])
    assert data.gap == 2  # ceil((4 + 1 - 1) / 3)


def test_npz_series_with_one_array_per_column(catalog: Any, tmp_path: Path) -> None:
    path = tmp_path / "s.npz"
    np.savez(path, load=np.arange(10.0) * 2, level=np.arange(10.0))
    data = load(catalog, path=str(path), window=2, horizon=3, period=2)
    assert data.schema["time"] is None  # numeric first column: a value, the row order is time
    assert data.feature_names == ["load", "level"]
    np.testing.assert_array_equal(data.x[1], [[2, 1], [4, 2]])
    np.testing.assert_array_equal(data.y[1], [3, 4, 5])
    assert data.schema["period"] == 2


@pytest.mark.parametrize("folds", [1, "auto"])
def test_time_splits_never_leak(catalog: Any, tmp_path: Path, folds: Any) -> None:
    """Every validation day is after every training day with the gap, and test after both."""
    path = write_series(tmp_path / "s.csv", rows=200)
    data = load(catalog, path=str(path), window=7, horizon=3, columns="sales")
    part = partition_dataset(data, validation=0.2, test=0.2, seed=3, folds=folds)
    assert len(part.folds) == 1  # `auto` never cross-validates a series
    fold = part.fold(0)
    train_days = np.concatenate([fold.x_train.ravel(), fold.y_train.ravel()])
    val_days = np.concatenate([fold.x_val.ravel(), fold.y_val.ravel()])
    test_days = np.concatenate([fold.x_test.ravel(), fold.y_test.ravel()])
    assert val_days.min() > train_days.max()
    assert test_days.min() > val_days.max()
    # in order, never shuffled: each window starts one day after the previous one
    for x in (fold.x_train, fold.x_val, fold.x_test):
        np.testing.assert_array_equal(np.diff(x[:, 0, 0]), 1)
    # the gap is exactly what keeps them apart: one window further would share a day
    assert val_days.min() == train_days.max() + 1
    assert len(fold.x_val) == round(0.2 * len(part.x) / 0.8)


def test_cross_validation_of_a_series_is_refused(catalog: Any, tmp_path: Path) -> None:
    data = load(catalog, path=str(write_series(tmp_path / "s.csv", rows=60)), window=5)
    with pytest.raises(AutoMLError, match=r"ordered in time: cross-validation would train"):
        partition_dataset(data, validation=0.2, test=0.2, folds=5)


@pytest.mark.parametrize(
    ("text", "params", "message"),
    [
        (
            "date,sales\n2024-01-02,1\n2024-01-01,2\n2024-01-03,3\n",
            {},
            r"s\.csv, line 3: rows must be in increasing time order, but date='2024-01-01' does "
            r"not come after '2024-01-02' \(line 2\)",
        ),
        (
            "date,sales\n2024-01-01,1\n2024-01-02,NA\n2024-01-03,3\n",
            {},
            r"s\.csv, line 3, column 'sales': expected a number .* Received: 'NA'",
        ),
        (
            "date,sales\n2024-01-01,1\n",
            {"target": "sale"},
            r"no target column 'sale'; did you mean",
        ),
        ("date,sales\n2024-01-01,1\n", {"columns": "x"}, r"no input column 'x'\. Columns: date"),
        (
            "date,sales\n2024-01-01,1\n",
            {"window": 3, "period": 7},
            r"`period <= window` must hold .* \(period=7, window=3\)",
        ),
        (
            "date,sales\n" + "".join(f"2024-01-0{d},{d}\n" for d in range(1, 6)),
            {"window": 3, "horizon": 2},
            r"5 rows give 1 windows of window \+ horizon = 5 rows",
        ),
    ],
)
def test_bad_series_are_clear_errors(
    catalog: Any, tmp_path: Path, text: str, params: dict[str, Any], message: str
) -> None:
    path = tmp_path / "s.csv"
    path.write_text(text)
    with pytest.raises(AutoMLError, match=message):
        load(catalog, path=str(path), **{"window": 1, **params})


def test_a_bad_target_is_a_validate_error_with_its_line(catalog: Any, write_space: Any) -> None:
    write_series(write_space("", "unused.yaml").parent / "s.csv")
    space = write_space(
        """
        data:
          source:
            timeseries: {path: s.csv, target: sold}
        model: {mlp: {}}
        """
    )
    with pytest.raises(SpecError, match=r"line 3: data\.source\.timeseries: .*no target column"):
        load_spec(space, catalog=catalog)


def test_a_forecast_space_gets_the_forecast_defaults(catalog: Any, write_space: Any) -> None:
    write_series(write_space("", "unused.yaml").parent / "s.csv")
    spec = load_spec(
        write_space("data: {source: {timeseries: {path: s.csv}}}\nmodel: {mlp: {}}\n"),
        catalog=catalog,
    )
    assert spec.data.task == "forecast"
    assert (spec.study.metric, spec.slot("loss").options[0].name) == ("mae", "mse")


def test_a_classification_metric_does_not_fit_a_forecast(catalog: Any, write_space: Any) -> None:
    write_series(write_space("", "unused.yaml").parent / "s.csv")
    space = write_space(
        "study: {metric: accuracy}\ndata: {source: {timeseries: {path: s.csv}}}\nmodel: mlp\n"
    )
    with pytest.raises(SpecError, match=r"metric 'accuracy' does not fit a forecast task"):
        load_spec(space, catalog=catalog)


def test_windows_need_the_forecast_task(catalog: Any, tmp_path: Path) -> None:
    data = load(catalog, path=str(write_series(tmp_path / "s.csv")), window=3)
    with pytest.raises(AutoMLError, match=r"a regression task needs targets of shape \(n,\)\. "):
        partition_dataset(data, validation=0.2, test=0.2, task="regression")


def test_the_source_passes_the_contract(catalog: Any, tmp_path: Path) -> None:
    from automl.testing import check_component

    path = write_series(tmp_path / "s.csv")
    check_component(catalog["data_source"].get("timeseries"), data_params={"path": str(path)})
