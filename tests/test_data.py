"""Partitioning rows: seeded, stratified folds; a hold-out identical to before; time order kept."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold, train_test_split

from automl.data import CV_BELOW_ROWS, Dataset, fold_count, partition_dataset
from automl.errors import AutoMLError


def labelled(n: int = 200, classes: int = 3, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    return Dataset(x=rng.normal(size=(n, 4)).astype("float32"), y=rng.integers(0, classes, n))


def test_folds_are_stratified_seeded_and_cover_every_row_once() -> None:
    data = labelled()
    part = partition_dataset(data, validation=0.2, test=0.25, seed=3, folds=5)
    assert part.cross_validated and len(part.folds) == 5
    val_rows = np.concatenate([va for _, va in part.folds])
    assert sorted(val_rows) == list(range(len(part.y)))  # each development row validated once
    for tr, va in part.folds:
        assert not set(tr) & set(va)
        overall = np.bincount(part.y, minlength=3) / len(part.y)
        in_fold = np.bincount(part.y[va], minlength=3) / len(va)
        assert np.abs(overall - in_fold).max() < 0.05  # stratified
    # the same folds scikit-learn gives for these rows and seed
    expected = StratifiedKFold(5, shuffle=True, random_state=3).split(np.zeros(len(part.y)), part.y)
    for (tr, va), (etr, eva) in zip(part.folds, expected, strict=True):
        assert list(va) == list(eva) and list(tr) == list(etr)
    again = partition_dataset(data, validation=0.2, test=0.25, seed=3, folds=5)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(part.folds, again.folds, strict=True))


def test_the_hold_out_split_is_the_one_of_before() -> None:
    data = labelled()
    splits = partition_dataset(data, validation=0.2, test=0.2, seed=0).fold(0)
    x_rest, x_test, y_rest, _ = train_test_split(
        data.x, data.y, test_size=0.2, random_state=0, stratify=data.y
    )
    x_train, x_val, _, _ = train_test_split(
        x_rest, y_rest, test_size=0.2 / 0.8, random_state=0, stratify=y_rest
    )
    np.testing.assert_array_equal(splits.x_test, x_test)
    np.testing.assert_array_equal(splits.x_train, x_train)
    np.testing.assert_array_equal(splits.x_val, x_val)


def test_auto_folds_follow_the_row_count() -> None:
    assert fold_count("auto", CV_BELOW_ROWS - 1) == 5
    assert fold_count("auto", CV_BELOW_ROWS) == 1
    assert fold_count(3, 10) == 3


def test_too_few_rows_of_a_class_for_the_folds_is_a_clear_error() -> None:
    data = Dataset(x=np.zeros((40, 2)), y=np.array([0] * 37 + [1] * 3))
    with pytest.raises(AutoMLError, match="5 stratified folds need at least 5 rows of every class"):
        partition_dataset(data, validation=0.2, test=0.0, folds=5)


def test_one_class_and_missing_targets_are_refused() -> None:
    with pytest.raises(
        AutoMLError, match=r"needs at least 2 classes in the target\. Received: only \['a'\]"
    ):
        partition_dataset(Dataset(np.zeros((10, 2)), np.array(["a"] * 10)), 0.2, 0.2)
    y = np.array([0.0, 1.0, np.nan, 1.0] * 5)
    with pytest.raises(AutoMLError, match="the target has 5 missing values"):
        partition_dataset(Dataset(np.zeros((20, 2)), y, name="t.csv"), 0.2, 0.2)


def test_ordered_data_is_split_by_time_with_a_gap() -> None:
    n, gap = 100, 5
    data = Dataset(
        x=np.arange(n, dtype="float32")[:, None], y=np.arange(n) * 1.0, ordered=True, gap=gap
    )
    splits = partition_dataset(data, validation=0.2, test=0.1, task="regression").fold(0)
    train_t, val_t, test_t = splits.x_train[:, 0], splits.x_val[:, 0], splits.x_test[:, 0]
    assert list(test_t) == list(range(90, 100))
    assert val_t.max() < test_t.min() and train_t.max() < val_t.min()
    assert val_t.min() - train_t.max() > gap  # the gap keeps a window from straddling them
    assert np.all(np.diff(train_t) == 1)  # never shuffled
    with pytest.raises(
        AutoMLError, match="ordered in time: cross-validation would train on the future"
    ):
        partition_dataset(data, 0.2, 0.1, task="regression", folds=5)


def test_auto_folds_fall_back_where_folds_cannot_be_made() -> None:
    assert fold_count("auto", 500, ordered=True) == 1  # a time series keeps its ordered hold-out
    assert fold_count("auto", 500, smallest_class=3) == 3  # a rare class: as many folds as rows
    assert fold_count("auto", 500, smallest_class=1) == 1
    # through partition_dataset: 3 rows of the rare class in 40 development rows -> 3 folds
    data = Dataset(x=np.zeros((40, 2)), y=np.array([0] * 37 + [1] * 3))
    part = partition_dataset(data, validation=0.2, test=0.0, folds="auto")
    assert len(part.folds) == 3
    assert [int(part.y[va].sum()) for _, va in part.folds] == [1, 1, 1]
    series = Dataset(np.arange(50.0)[:, None], np.arange(50.0), ordered=True)
    assert len(partition_dataset(series, 0.2, 0.1, task="regression", folds="auto").folds) == 1


def test_a_space_cross_validates_small_data_by_default(write_space, catalog) -> None:
    from automl.data import load_partition
    from automl.spec import load_spec

    spec = load_spec(write_space("data: {source: {sklearn: {name: iris}}}\nmodel: mlp\n"))
    assert spec.data.folds == "auto"
    part = load_partition(spec, catalog)
    assert len(part.folds) == 5 and len(part.x) == 120  # 150 rows, 20% test
