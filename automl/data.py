"""The `Dataset` container, task inference and the train/validation/test split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.model_selection import train_test_split

from automl.errors import AutoMLError

if TYPE_CHECKING:
    from automl.plugins import Catalog
    from automl.spec import Spec

TASKS = ("binary", "multiclass", "regression")


@dataclass
class Dataset:
    """A whole data set as a data source returns it.

    Args:
        x: features, shape (n, ...): (n, features) tabular, (n, h, w, c) images,
            (n, t, f) sequences.
        y: targets, shape (n,): class labels of any type, or numbers for regression.
        task: "binary", "multiclass" or "regression"; inferred from `y` when None.
        name: a label for logs and the model card.
        feature_names: column names of tabular data, recorded for export.
        class_names: the labels in class-index order; derived from `y` when None.
        schema: free-form input description recorded in `model.json` (columns, dtypes...).
    """

    x: np.ndarray
    y: np.ndarray
    task: str | None = None
    name: str = ""
    feature_names: list[str] | None = None
    class_names: list[str] | None = None
    schema: dict[str, Any] = field(default_factory=dict)


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


def infer_task(y: np.ndarray) -> str:
    """Binary / multiclass for labels (strings, booleans, few integers), regression otherwise."""
    y = np.asarray(y)
    if y.dtype.kind in "OUSb":
        return "binary" if len(np.unique(y)) <= 2 else "multiclass"
    if y.dtype.kind in "iu":
        n_unique = len(np.unique(y))
        if n_unique <= 2:
            return "binary"
        return "multiclass" if n_unique <= max(20, int(0.05 * len(y))) else "regression"
    if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0) and len(np.unique(y)) <= 20:
        return "binary" if len(np.unique(y)) <= 2 else "multiclass"
    return "regression"


def encode_targets(y: np.ndarray, task: str) -> tuple[np.ndarray, list[str] | None]:
    """Class labels -> indices 0..k-1 (with the names in index order); regression -> float32."""
    if task == "regression":
        try:
            return np.asarray(y, dtype="float32"), None
        except (TypeError, ValueError) as exc:
            raise AutoMLError(f"regression targets must be numbers: {exc}") from exc
    labels, encoded = np.unique(np.asarray(y), return_inverse=True)
    if task == "binary" and len(labels) > 2:
        raise AutoMLError(
            f"task is binary but the target has {len(labels)} classes: {list(labels)[:10]}"
        )
    return encoded.astype("int64"), [str(label) for label in labels]


def split_dataset(
    dataset: Dataset,
    validation: float,
    test: float,
    seed: int | None = 0,
    stratify: bool = True,
    limit: int | None = None,
    task: str | None = None,
) -> Splits:
    """Split once per study, seeded (and stratified for classification)."""
    x, y = np.asarray(dataset.x), np.asarray(dataset.y)
    if len(x) != len(y):
        raise AutoMLError(f"features and targets differ in length: x has {len(x)}, y has {len(y)}")
    task = task or dataset.task or infer_task(y)
    if task not in TASKS:
        raise AutoMLError(f"task must be one of {', '.join(TASKS)}. Received: task={task!r}")
    y_enc, class_names = encode_targets(y, task)
    if dataset.class_names and class_names and len(dataset.class_names) == len(class_names):
        class_names = list(dataset.class_names)
    classify = task != "regression"
    strat = y_enc if (stratify and classify) else None
    if limit is not None and limit < len(x):
        x, _, y_enc, _ = train_test_split(
            x, y_enc, train_size=limit, random_state=seed, stratify=strat
        )
        strat = y_enc if (stratify and classify) else None
    x_rest, x_test, y_rest, y_test = (x, x[:0], y_enc, y_enc[:0])
    if test > 0:
        x_rest, x_test, y_rest, y_test = train_test_split(
            x, y_enc, test_size=test, random_state=seed, stratify=strat
        )
    strat_rest = y_rest if (stratify and classify) else None
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=validation / (1.0 - test), random_state=seed, stratify=strat_rest
    )
    return Splits(
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        task=task,
        class_names=class_names,
        name=dataset.name,
        feature_names=dataset.feature_names,
        schema=dict(dataset.schema),
    )


def load_splits(spec: Spec, catalog: Catalog) -> Splits:
    """Load the data set and split it (seeded: every run and worker gets the same split)."""
    with catalog.blame("data_source", spec.data.source) as source:
        dataset = source.load(**spec.data.source_params)
    splits = split_dataset(
        dataset,
        validation=spec.data.validation,
        test=spec.data.test,
        seed=spec.study.seed,
        stratify=spec.data.stratify,
        limit=spec.data.limit,
        task=spec.data.task,
    )
    if spec.data.task is None:
        check_task(spec, catalog, splits.task)
    return splits


def check_task(spec: Spec, catalog: Catalog, task: str) -> None:
    """Metric and components must fit the task found in the data (when the file could not say)."""
    problems = []
    if task not in catalog["metric"].get(spec.study.metric).tasks:
        problems.append(f"metric {spec.study.metric!r} does not fit the {task} task of the data")
    for slot in spec.slots:
        for option in slot.options:
            if task not in catalog[slot.kind].get(option.name).tasks:
                problems.append(
                    f"{slot.key}: {option.name!r} does not fit the {task} task of the data"
                )
    if problems:
        raise AutoMLError("; ".join(problems))
