"""The tasks of `benchmarks/quality.py`: data, one fixed train/test split, and the test metric.

Each task is scikit-learn's bundled data or a synthetic set generated here from a seed. The test
split is made once, seeded and stratified for classification; automl never sees it (only the
train part is written to disk for it), and the three contenders are scored on it with the same
scikit-learn function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import datasets
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split

TEST_FRACTION = 0.25
QUICK_ROWS = 400  # --quick: at most this many rows per task (train + test)


@dataclass(frozen=True)
class Metric:
    """A test metric: its automl name, direction, and how to score labels or probabilities.

    Args:
        name: the automl metric component (`study.metric`).
        maximize: whether higher is better.
        uses_proba: score the positive class probability (ROC AUC) instead of labels.
    """

    name: str
    maximize: bool
    uses_proba: bool = False

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """The metric on the test split: `y_pred` is labels, P(class 1) or values."""
        if self.name == "accuracy":
            return float(accuracy_score(y_true, y_pred))
        if self.name == "roc_auc":
            return float(roc_auc_score(y_true, y_pred))
        if self.name == "f1":
            return float(f1_score(y_true, y_pred, pos_label=1))
        if self.name == "rmse":
            return float(np.sqrt(mean_squared_error(y_true, y_pred)))
        raise ValueError(
            f"benchmarks/_quality_tasks.py: no scorer for metric {self.name!r}. "
            "Expected one of accuracy, roc_auc, f1, rmse"
        )

    def better(self, a: float, b: float) -> float:
        """How much `a` beats `b` (positive = better), whatever the direction."""
        return a - b if self.maximize else b - a


METRICS = {
    "accuracy": Metric("accuracy", True),
    "roc_auc": Metric("roc_auc", True, uses_proba=True),
    "f1": Metric("f1", True),
    "rmse": Metric("rmse", False),
}


@dataclass(frozen=True)
class Task:
    """One benchmark task.

    Args:
        name: the `--tasks` name.
        kind: `tabular`, `images` or `sequences`: decides the model families and preprocessing.
        task: `binary`, `multiclass` or `regression`.
        metric: the test metric (also automl's `study.metric` and the baselines' objective).
        load: `seed -> (x, y)` with the whole data set.
        imbalanced: the classes are very unequal: every contender weights them (`balanced`).
    """

    name: str
    kind: str
    task: str
    metric: Metric
    load: Callable[[int], tuple[np.ndarray, np.ndarray]]
    imbalanced: bool = False

    @property
    def classification(self) -> bool:
        return self.task != "regression"


@dataclass(frozen=True)
class Split:
    """The task's fixed split; `x_test`/`y_test` are for scoring only."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _digits(seed: int) -> tuple[np.ndarray, np.ndarray]:
    bunch = datasets.load_digits()
    return bunch.data.reshape(-1, 8, 8, 1).astype("float32"), bunch.target.astype("int64")


def _bundled(name: str) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    def load(seed: int) -> tuple[np.ndarray, np.ndarray]:
        bunch = getattr(datasets, f"load_{name}")()
        y = bunch.target.astype("float64" if name == "diabetes" else "int64")
        return bunch.data.astype("float32"), y

    return load


def make_imbalanced(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Binary, about 5% positives: 20 features, 6 informative, 1% label noise."""
    x, y = datasets.make_classification(
        n_samples=n,
        n_features=20,
        n_informative=6,
        n_redundant=2,
        weights=[0.95],
        flip_y=0.01,
        class_sep=1.0,
        random_state=seed,
    )
    return x.astype("float32"), y.astype("int64")


def make_sequences(seed: int, n: int = 1500, steps: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Noisy periodic signals of 4 shapes (sine, square, sawtooth, triangle), shape (n, steps, 1).

    Frequency, phase, amplitude and offset are random per sequence, so the shape is what tells
    the classes apart: position-free patterns that suit recurrent and 1-D convolutional models.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=n)
    t = np.arange(steps)[None, :]
    cycles = rng.uniform(1.5, 4.0, size=(n, 1))
    phase = rng.uniform(0.0, 1.0, size=(n, 1))
    u = (t * cycles / steps + phase) % 1.0  # position within the period, in [0, 1)
    shapes = np.stack(
        [
            np.sin(2 * np.pi * u),  # sine
            np.where(u < 0.5, 1.0, -1.0),  # square
            2.0 * u - 1.0,  # sawtooth
            1.0 - 4.0 * np.abs(u - 0.5),  # triangle
        ]
    )
    signal = shapes[y, np.arange(n)]
    amplitude = rng.uniform(0.5, 1.5, size=(n, 1))
    offset = rng.normal(0.0, 0.3, size=(n, 1))
    x = amplitude * signal + offset + rng.normal(0.0, 0.3, size=(n, steps))
    return x[..., None].astype("float32"), y.astype("int64")


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("digits", "images", "multiclass", METRICS["accuracy"], _digits),
        Task("wine", "tabular", "multiclass", METRICS["accuracy"], _bundled("wine")),
        Task("breast_cancer", "tabular", "binary", METRICS["roc_auc"], _bundled("breast_cancer")),
        Task("diabetes", "tabular", "regression", METRICS["rmse"], _bundled("diabetes")),
        Task("imbalanced", "tabular", "binary", METRICS["f1"], make_imbalanced, imbalanced=True),
        Task("sequences", "sequences", "multiclass", METRICS["accuracy"], make_sequences),
    )
}


def split_task(task: Task, seed: int, quick: bool = False) -> Split:
    """Load the task and make its one fixed split (stratified for classification).

    With `quick`, a stratified subsample of at most `QUICK_ROWS` rows is split instead.
    """
    x, y = task.load(seed)
    stratify = y if task.classification else None
    if quick and len(x) > QUICK_ROWS:
        x, _, y, _ = train_test_split(
            x, y, train_size=QUICK_ROWS, random_state=seed, stratify=stratify
        )
        stratify = y if task.classification else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=seed, stratify=stratify
    )
    return Split(x_train, y_train, x_test, y_test)


def balanced_weights(y: np.ndarray) -> dict[int, float]:
    """scikit-learn's `class_weight="balanced"`: n / (k * count) per class (as automl's)."""
    classes, counts = np.unique(y, return_counts=True)
    return {
        int(c): float(len(y) / (len(classes) * n)) for c, n in zip(classes, counts, strict=True)
    }
