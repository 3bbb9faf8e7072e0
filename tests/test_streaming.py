"""Data larger than memory: lazy rows are split like arrays without being read, read one batch
at a time for training and scoring, and a streamed image folder tunes, exports and predicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import optuna
import pytest

from automl.cli import main
from automl.data import Dataset, partition_dataset
from automl.plugins import load_catalog
from automl.row_batches import RowBatches
from automl.space import sample_config
from automl.spec import load_spec, open_space
from automl.streaming import LazyRows, RowReader, adapt_sample, concat_rows
from automl.trial import compile_model, fit_model, forward


class CountingReader(RowReader):
    """Rows of an in-memory array that remember every read (how many rows, each time)."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self.row_shape = tuple(x.shape[1:])
        self.reads: list[int] = []

    def __len__(self) -> int:
        return len(self.x)

    def read(self, indices: np.ndarray) -> np.ndarray:
        self.reads.append(len(indices))
        return self.x[indices]


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype("float32") / 16.0, bunch.target


def test_indexing_lazy_rows_reads_nothing_until_asked() -> None:
    x = np.arange(40, dtype="float32").reshape(10, 4)
    reader = CountingReader(x)
    rows = LazyRows(reader)
    view = rows[np.array([7, 2, 5])][1:]
    assert (len(view), view.shape, view.ndim, view.dtype) == (2, (2, 4), 2, np.float32)
    assert reader.reads == []
    np.testing.assert_array_equal(np.asarray(view), x[[2, 5]])
    np.testing.assert_array_equal(rows[3], x[3])
    assert reader.reads == [2, 1]


def test_partition_of_lazy_rows_equals_the_partition_of_the_array() -> None:
    x, y = digits()
    reader = CountingReader(x)
    kw: dict[str, Any] = {"validation": 0.2, "test": 0.2, "seed": 3}
    eager = partition_dataset(Dataset(x=x, y=y), folds=5, **kw)
    lazy = partition_dataset(Dataset(x=LazyRows(reader), y=y), folds=5, **kw)
    assert reader.reads == []  # stratified test split and 5 folds: on row indices only
    for (tr_a, va_a), (tr_b, va_b) in zip(eager.folds, lazy.folds, strict=True):
        np.testing.assert_array_equal(tr_a, tr_b)
        np.testing.assert_array_equal(va_a, va_b)
    fold = lazy.fold(2)
    assert isinstance(fold.x_train, LazyRows) and reader.reads == []
    np.testing.assert_array_equal(np.asarray(fold.x_val), eager.fold(2).x_val)
    np.testing.assert_array_equal(np.asarray(lazy.test.x_test), eager.test.x_test)


def test_adapt_sample_is_bounded_seeded_and_in_row_order() -> None:
    x = np.arange(100, dtype="float32").reshape(100, 1)
    in_memory = np.ones((5, 1))
    assert adapt_sample(in_memory) is in_memory  # arrays: every row, as before
    reader = CountingReader(x)
    sample = adapt_sample(LazyRows(reader), rows=10, seed=1)
    expected = np.sort(np.random.default_rng(1).choice(100, size=10, replace=False))
    np.testing.assert_array_equal(sample[:, 0], expected)
    assert reader.reads == [10]
    np.testing.assert_array_equal(adapt_sample(LazyRows(reader), rows=500), x)


def test_concat_rows_stays_lazy_for_one_reader() -> None:
    x = np.arange(6, dtype="float32").reshape(6, 1)
    rows = LazyRows(CountingReader(x))
    joined = concat_rows(rows[[4, 5]], rows[[0]])
    assert isinstance(joined, LazyRows)
    np.testing.assert_array_equal(np.asarray(joined)[:, 0], [4, 5, 0])
    np.testing.assert_array_equal(concat_rows(x[:1], rows[[2]])[:, 0], [0, 2])


def test_row_batches_give_every_row_once_per_epoch_reshuffled() -> None:
    x = np.arange(10, dtype="float32").reshape(10, 1)
    y = np.arange(10) * 10
    batches = RowBatches(LazyRows(CountingReader(x)), y, batch_size=4, seed=0)
    assert len(batches) == 3

    def epoch() -> list[int]:
        seen = [batches[i] for i in range(len(batches))]
        for xb, yb in seen:
            np.testing.assert_array_equal(xb[:, 0] * 10, yb)  # rows and targets stay paired
        return [int(v) for xb, _ in seen for v in xb[:, 0]]

    first = epoch()
    batches.on_epoch_end()
    second = epoch()
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != second


def test_forward_on_lazy_rows_reads_in_batches_and_equals_the_array() -> None:
    x, _ = digits()
    reader = CountingReader(x[:300])
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(3)])
    np.testing.assert_array_equal(forward(model, LazyRows(reader), 128), forward(model, x[:300]))
    assert reader.reads == [128, 128, 44]


def test_fit_model_reads_one_batch_at_a_time_with_class_weights() -> None:
    x, y = digits()
    reader = CountingReader(x[:200])
    spec = load_spec(
        {
            "study": {"seed": 0},
            "data": {"source": {"sklearn": {"name": "digits", "images": False}}},
            "training": {"epochs": 2, "batch_size": 32, "early_stopping": False,
                         "class_weight": "balanced"},
            "preprocessors": ["standardize"],
            "model": {"mlp": {"layers": 1, "units": 8, "dropout": 0.0}},
            "activation": "relu",
            "optimizer": {"adam": {"learning_rate": 0.01}},
        }
    )  # fmt: skip
    splits = partition_dataset(Dataset(x=LazyRows(reader), y=y[:200]), 0.2, 0.0).fold(0)
    config = sample_config(optuna.trial.FixedTrial({}), spec)
    catalog = load_catalog()
    model, _, _ = compile_model(config, splits, catalog, seed=0)
    assert reader.reads == [160]  # standardize adapted on the (small enough) training rows
    history = fit_model(model, config, spec, splits, 3, [])
    assert len(history.history["loss"]) == 3
    assert max(reader.reads[1:]) == 32  # one batch at a time
    # every row once per epoch; Keras may read up to two batches more to learn their signature
    assert 3 * 160 <= sum(reader.reads[1:]) <= 3 * 160 + 2 * 32


# ------------------------------------------------------------------ a streamed image folder
def write_folder(root: Path, per_class: int = 24) -> Path:
    """Two classes of 8x8 grey PNGs: dark and bright squares with noise."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for label, level in (("dark", 60), ("bright", 190)):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(level + rng.normal(0, 25, (8, 8, 1)), 0, 255).astype("uint8")
            (root / label / f"{i:03d}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    return root


SPACE = """
study: {{name: {name}, trials: 2, sampler: random, pruner: none, seed: 0}}
data:
  source: {{image_folder: {{path: images, height: 8, width: 8, channels: 1,
                            stream_above_mb: {stream}}}}}
  folds: 1
training: {{epochs: 2, batch_size: 8, early_stopping: false}}
preprocessors: [min_max]
model: {{cnn: {{blocks: 1, filters: 8, dense_units: 16}}}}
"""


def test_a_streamed_folder_is_split_as_the_loaded_one(tmp_path: Path) -> None:
    write_folder(tmp_path / "images")
    catalog = load_catalog()
    parts = {}
    for name, stream in (("eager", 1000), ("streamed", 0)):
        (tmp_path / f"{name}.yaml").write_text(SPACE.format(name=name, stream=stream))
        spec = load_spec(tmp_path / f"{name}.yaml", catalog=catalog)
        with catalog.blame("data_source", "image_folder") as source:
            dataset = source.load(**spec.data.source_params)
        parts[name] = partition_dataset(dataset, 0.25, 0.25, seed=0)
    assert isinstance(parts["streamed"].x, LazyRows)
    assert isinstance(parts["eager"].x, np.ndarray)
    np.testing.assert_array_equal(parts["streamed"].folds[0][1], parts["eager"].folds[0][1])
    np.testing.assert_array_equal(
        np.asarray(parts["streamed"].test.x_test), parts["eager"].test.x_test
    )


@pytest.mark.slow
def test_tune_export_predict_a_streamed_image_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_folder(tmp_path / "images")
    space = tmp_path / "space.yaml"
    space.write_text(SPACE.format(name="streamed", stream=0))
    spec, _ = open_space(space)
    assert spec.data.source_params["stream_above_mb"] == 0

    assert main(["tune", str(space), "--no-progress"]) == 0
    assert "Study 'streamed': 2/2 trials" in capsys.readouterr().out
    assert main(["export", str(space), "--out", str(tmp_path / "best")]) == 0
    assert "exported trial" in capsys.readouterr().out
    card = json.loads((tmp_path / "best" / "model.json").read_text())
    assert (card["data"]["test_rows"], card["input_schema"]["shape"]) == (10, [8, 8, 1])
    assert card["evaluation"]["rows"] == 10
    assert main(["predict", str(tmp_path / "best"), str(tmp_path / "images")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 + 48  # header + one row per image
