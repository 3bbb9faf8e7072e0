"""The `Dataset` container, task inference, and how rows are partitioned for a study.

A study's rows are partitioned once (seeded): the test split is held out and touched only by the
exported model; the remaining development rows are split into K cross-validation folds
(stratified for classification) or one train/validation hold-out. `data.folds: auto` uses 5 folds
below `CV_BELOW_ROWS` development rows and one hold-out split above. Ordered data (time series) is
never shuffled: validation and test are the last stretches, after a gap.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.backends import require_tensorflow
from automl.components import TASKS, VALUES
from automl.data_checks import check_features, fillers
from automl.errors import DataError
from automl.streaming import LazyRows, is_lazy
from automl.targets import encode_targets, infer_task, missing_targets

if TYPE_CHECKING:
    from automl.plugins import Catalog
    from automl.spec import Spec

#: with `data.folds: auto`, data sets with fewer development rows than this are cross-validated:
#: below it a 20% hold-out has under 2,000 rows, whose noise (e.g. +-0.02 accuracy at 1,000 rows)
#: is as large as the differences between good trials; above it one split is precise enough and
#: K times cheaper.
CV_BELOW_ROWS = 10_000
AUTO_FOLDS = 5


@dataclass
class Dataset:
    """A whole data set as a data source returns it.

    Args:
        x: features, shape (n, ...): (n, features) tabular, (n, h, w, c) images,
            (n, t, f) sequences; or `automl.streaming.LazyRows` for data read from disk per
            batch (splits and folds are then made on the row indices, nothing is loaded).
        y: targets, shape (n,): class labels of any type, or numbers for regression; shape
            (n, horizon) for a forecast (the next `horizon` values of the series).
        task: "binary", "multiclass", "regression" or "forecast"; inferred from `y` when None.
        name: a label for logs and the model card.
        feature_names: column names of tabular data, recorded for export.
        class_names: the labels in class-index order; derived from `y` when None.
        schema: free-form input description recorded in `model.json` (columns, dtypes...).
    """

    x: np.ndarray | LazyRows
    y: np.ndarray
    task: str | None = None
    name: str = ""
    feature_names: list[str] | None = None
    class_names: list[str] | None = None
    schema: dict[str, Any] = field(default_factory=dict)
    #: rows are in time order (a series): split by time, never shuffled
    ordered: bool = False
    #: rows dropped between training and validation/test stretches of ordered data (the window)
    gap: int = 0
    #: indices of the rows that are the validation split, fixed by the user (`tune(x_val=...)`,
    #: an npz's `x_val`/`y_val`, a csv's `validation_path`): no random validation split, no folds
    validation_rows: np.ndarray | None = None


@dataclass
class Splits:
    """Train/validation/test arrays with targets encoded for Keras (class indices or floats)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    class_names: list[str] | None
    name: str = ""
    feature_names: list[str] | None = None
    schema: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example (no batch axis)."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names) if self.class_names else 0


@dataclass
class Partition:
    """A study's rows: development rows with their folds, and the held-out test split.

    Args:
        x, y: the development rows (everything but test), targets encoded.
        folds: (train indices, validation indices) into the development rows: K folds for
            cross-validation, or one for a hold-out split.
        test: the test split and what describes the data (task, class names, columns); its
            train and validation arrays are empty.
    """

    x: np.ndarray
    y: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    test: Splits

    @property
    def task(self) -> str:
        """binary, multiclass, regression or forecast."""
        return self.test.task

    @property
    def cross_validated(self) -> bool:
        """True with K >= 2 folds (every development row is in exactly one validation fold)."""
        return len(self.folds) > 1

    def fold(self, k: int) -> Splits:
        """Fold `k` as train/validation arrays (the test split rides along)."""
        train, val = self.folds[k]
        return self._with(self.x[train], self.y[train], self.x[val], self.y[val])

    def development(self) -> Splits:
        """Every development row as training data (a final refit); no validation rows."""
        return self._with(self.x, self.y, self.x[:0], self.y[:0])

    def _with(self, x_train: Any, y_train: Any, x_val: Any, y_val: Any) -> Splits:
        return dataclasses.replace(
            self.test, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val
        )


def encoded_dataset(dataset: Dataset, task: str | None) -> tuple[np.ndarray, np.ndarray, str, Any]:
    """Features, encoded targets, the task and the class names of a data set (checked)."""
    x: Any = dataset.x if is_lazy(dataset.x) else np.asarray(dataset.x)  # lazy rows stay unread
    y = np.asarray(dataset.y)
    if len(x) != len(y):
        raise DataError(f"features and targets differ in length: x has {len(x)}, y has {len(y)}")
    missing = missing_targets(y)
    if missing:
        raise DataError(
            f"the target has {missing} missing values; "
            "remove those rows (automl does not impute targets)"
        )
    task = task or dataset.task or infer_task(y)
    if task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}. Received: task={task!r}")
    y_enc, class_names = encode_targets(y, task)
    if dataset.class_names and class_names and len(dataset.class_names) == len(class_names):
        class_names = list(dataset.class_names)
    return x, y_enc, task, class_names


def fold_count(
    folds: int | str, n_rows: int, ordered: bool = False, smallest_class: int | None = None
) -> int:
    """The number of folds: `folds` itself, or for `auto` 5 below `CV_BELOW_ROWS` development
    rows and 1 (a hold-out split) above.

    `auto` never asks for what cannot be done: ordered data (a time series) gets the time-ordered
    hold-out, and a class with fewer than 5 rows gets as many folds as it has rows (at least 2;
    one row: the hold-out).

    Args:
        folds: `data.folds`: an integer >= 1 or `"auto"`.
        n_rows: development rows (everything but the test split).
        ordered: the rows are in time order. Defaults to `False`.
        smallest_class: rows of the rarest class (stratified folds). Defaults to `None`.
    """
    if folds != "auto":
        return int(folds)
    if ordered or n_rows >= CV_BELOW_ROWS:
        return 1
    k = min(AUTO_FOLDS, smallest_class) if smallest_class is not None else AUTO_FOLDS
    return k if k >= 2 else 1


def _naming_the_data(func: Callable[..., Partition]) -> Callable[..., Partition]:
    """A `DataError` while partitioning names the data set (its file) first."""

    @functools.wraps(func)
    def wrapper(dataset: Dataset, *args: Any, **kwargs: Any) -> Partition:
        try:
            return func(dataset, *args, **kwargs)
        except DataError as exc:
            name = dataset.name or "the data set"
            raise DataError(f"{name}: {exc}{_class_counts(dataset, str(exc))}") from None

    return wrapper


def _class_counts(dataset: Dataset, message: str) -> str:
    """` Rows per class: {'a': 19, 'b': 1}.` after a failed split of labelled rows ('' else)."""
    labels, counts = np.unique(np.asarray(dataset.y), return_counts=True)
    if not message.startswith("cannot split") or len(labels) > 50:
        return ""
    return f" Rows per class: {dict(zip(labels.tolist(), counts.tolist(), strict=True))}."


@_naming_the_data
def partition_dataset(
    dataset: Dataset,
    validation: float,
    test: float,
    seed: int | None = 0,
    stratify: bool = True,
    limit: int | None = None,
    task: str | None = None,
    folds: int | str = 1,
) -> Partition:
    """Partition once per study, seeded (stratified for classification, by time when ordered)."""
    x, y, task, class_names = encoded_dataset(dataset, task)
    stratify = stratify and task not in VALUES  # values have no classes to stratify by
    if dataset.validation_rows is not None:
        return _fixed_validation(
            dataset, x, y, task, class_names, test, seed, stratify, limit, folds
        )
    strat = y if stratify else None
    if limit is not None and limit < len(x):
        kept, _ = _split(np.arange(len(x)), strat, limit, seed, True, dataset.ordered)
        x, y = x[kept], y[kept]
        strat = y if strat is not None else None
    dev, test_idx = np.arange(len(x)), np.arange(0)
    if test > 0:
        dev, test_idx = _split(dev, strat, test, seed, ordered=dataset.ordered, gap=dataset.gap)
    x_dev, y_dev = x[dev], y[dev]
    smallest = int(np.bincount(y_dev)[np.bincount(y_dev) > 0].min()) if stratify else None
    k = fold_count(folds, len(dev), dataset.ordered, smallest)
    if k > 1:
        fold_list = _kfold(y_dev, k, seed, stratify, dataset)
    else:
        fraction = validation / (1.0 - test)
        tr, va = _split(
            np.arange(len(dev)), strat[dev] if strat is not None else None, fraction, seed,
            ordered=dataset.ordered, gap=dataset.gap,
        )  # fmt: skip
        fold_list = [(tr, va)]
    test_split = _test_split(dataset, x[test_idx], y[test_idx], task, class_names)
    return Partition(x_dev, y_dev, fold_list, test_split)


def _test_split(
    dataset: Dataset, x_test: np.ndarray, y_test: np.ndarray, task: str, class_names: Any
) -> Splits:
    """The held-out test rows with what describes the data; empty train and validation arrays."""
    return Splits(
        x_test[:0], y_test[:0], x_test[:0], y_test[:0], x_test, y_test, task, class_names,
        dataset.name, dataset.feature_names, dict(dataset.schema),
    )  # fmt: skip


def _fixed_validation(
    dataset: Dataset,
    x: np.ndarray,
    y: np.ndarray,
    task: str,
    class_names: list[str] | None,
    test: float,
    seed: int | None,
    stratify: bool,
    limit: int | None,
    folds: int | str,
) -> Partition:
    """The user's validation rows are the one hold-out; test and `limit` come from the others."""
    if folds not in (1, "auto"):
        raise DataError(
            "a fixed validation set (x_val/y_val, or validation_path) is one hold-out split: "
            f"it cannot be cross-validated. Set data.folds to 1 or auto. Received: folds={folds}"
        )
    val = np.asarray(dataset.validation_rows, dtype="int64")
    rest = np.setdiff1d(np.arange(len(x)), val)
    strat = y if stratify and task not in VALUES else None
    if limit is not None and limit < len(rest):
        rest, _ = _split(rest, None if strat is None else strat[rest], limit, seed, True)
    test_idx = np.arange(0)
    if test > 0:
        rest, test_idx = _split(rest, None if strat is None else strat[rest], test, seed)
    dev = np.concatenate([rest, val])
    fold = (np.arange(len(rest)), np.arange(len(rest), len(dev)))
    test_split = _test_split(dataset, x[test_idx], y[test_idx], task, class_names)
    return Partition(x[dev], y[dev], [fold], test_split)


def _split(
    idx: np.ndarray,
    strat: np.ndarray | None,
    size: float | int,
    seed: int | None,
    train_size: bool = False,
    ordered: bool = False,
    gap: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's seeded (stratified) split of `idx`, or by time: the last stretch held out."""
    if ordered:
        n = len(idx)
        count = int(size) if size >= 1 else round(n * size)
        if train_size:  # keep the first `count` rows
            return idx[:count], idx[count:]
        return idx[: max(0, n - count - gap)], idx[n - count :]
    from sklearn.model_selection import train_test_split  # lazy: `automl validate` needs none

    kw = {"train_size" if train_size else "test_size": size}
    try:
        first, second = train_test_split(idx, random_state=seed, stratify=strat, **kw)
    except ValueError as exc:  # e.g. a class with a single row cannot be stratified
        raise DataError(
            f"cannot split {len(idx)} rows as asked ({'train size' if train_size else 'held out'}"
            f" {size}): {exc} Add rows of the small classes, lower data.test or "
            "data.validation, raise data.limit, or set data.stratify: false."
        ) from None
    return first, second


def _kfold(
    y: np.ndarray, k: int, seed: int | None, stratify: bool, dataset: Dataset
) -> list[tuple[np.ndarray, np.ndarray]]:
    if dataset.ordered:
        raise DataError(
            f"{dataset.name or 'this data set'} is ordered in time: cross-validation would train "
            f"on the future. Set data.folds: 1 (a time-ordered hold-out). Received: folds={k}"
        )
    from sklearn.model_selection import KFold, StratifiedKFold

    if len(y) < 2 * k:
        raise DataError(f"{k} folds need at least {2 * k} development rows, got {len(y)}")
    if stratify:
        counts = np.bincount(y)
        smallest = int(counts[counts > 0].min())
        if smallest < k:
            raise DataError(
                f"{k} stratified folds need at least {k} rows of every class, but a class has "
                f"{smallest}. Lower data.folds or data.test, or add rows of that class"
            )
        splitter: Any = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        return [(tr, va) for tr, va in splitter.split(np.zeros(len(y)), y)]
    splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, va) for tr, va in splitter.split(np.zeros(len(y)))]


def load_partition(spec: Spec, catalog: Catalog) -> Partition:
    """Load the data set and partition it (seeded: every run and worker gets the same folds)."""
    with catalog.blame("data_source", spec.data.source) as source:
        dataset = source.load(**spec.data.source_params)
    if not is_lazy(dataset.x):  # streamed rows are decoded files: nothing to read them for
        check_features(dataset.x, dataset.feature_names, _where(spec), *fillers(spec, catalog))
    partition = partition_dataset(
        dataset,
        validation=spec.data.validation,
        test=spec.data.test,
        seed=spec.study.seed,
        stratify=spec.data.stratify,
        limit=spec.data.limit,
        task=spec.data.task,
        folds=spec.data.folds,
    )
    if spec.data.task is None:
        check_task(spec, catalog, partition.task)
    if partition.x.dtype.kind in "OUS":  # refused once, before any trial, off TensorFlow
        require_tensorflow("text inputs", dataset.name or spec.data.source)
    return partition


def _where(spec: Spec) -> str:
    """The data source as the message names it: its file, else `data.source.<name>`."""
    path = spec.data.source_params.get("path")
    return str(path) if path else f"data.source.{spec.data.source}"


def load_splits(spec: Spec, catalog: Catalog) -> Splits:
    """The first fold of the study's partition (the hold-out split when there are no folds)."""
    return load_partition(spec, catalog).fold(0)


def check_task(spec: Spec, catalog: Catalog, task: str) -> None:
    """Metrics and components must fit the task found in the data (when the file could not say)."""
    used = [("study.metric", "metric", name) for name in spec.study.metrics]
    used += [(slot.key, slot.kind, option.name) for slot in spec.slots for option in slot.options]
    problems = []
    for where, kind, name in used:
        tasks = catalog[kind].get(name).tasks
        if task not in tasks:
            problems.append(
                f"{where}: {name!r} does not fit the {task} task found in the data "
                f"(it fits: {', '.join(tasks)})"
            )
    if problems:
        raise DataError("; ".join(problems))
