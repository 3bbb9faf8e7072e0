"""Measures of the model (`params`, `size_mb`, `latency_ms`) against independent computations,
and which metrics a trial computes (`automl.measures`)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from automl.data import Splits
from automl.errors import AutoMLError, TrialFailed
from automl.measures import (
    broken_constraints,
    epoch_metric,
    measured_metrics,
    metric_values,
    objective_values,
    violations,
)
from automl.spec import load_spec

ROWS = np.random.default_rng(0).normal(size=(20, 6)).astype("float32")
#: the study's splits a metric is fitted to (`BaseMetric.fitted`: these metrics ignore them)
SPLITS = Splits(
    ROWS, np.zeros(20), ROWS[:0], np.zeros(0), ROWS[:0], np.zeros(0), "multiclass", None
)


def _model(units: int) -> keras.Model:
    inputs = keras.Input(shape=(6,), name="inputs")
    x = keras.layers.Dense(units, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)  # trainable and non-trainable weights
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


def test_params_counts_trainable_and_non_trainable_weights(catalog: Any) -> None:
    model = _model(16)
    # 6->16 dense (112), batch norm (gamma, beta trainable; moving mean, variance not: 4 x 16),
    # 16->3 dense (51)
    assert catalog["metric"].get("params").measure(model, ROWS) == 112 + 64 + 51
    assert model.count_params() == 112 + 64 + 51
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 112 + 32 + 51


def test_size_mb_is_the_saved_model_file(catalog: Any, tmp_path: Path) -> None:
    model = _model(64)
    model.save(tmp_path / "model.keras")
    size = (tmp_path / "model.keras").stat().st_size / 1e6
    measured = catalog["metric"].get("size_mb").measure(model, ROWS)
    assert measured == pytest.approx(size, abs=2e-4)  # the zip's timestamp may differ: bytes
    bigger = catalog["metric"].get("size_mb").measure(_model(2048), ROWS)
    # float32 weights: 4 bytes for each of the 14 more parameters per extra unit
    assert bigger - measured == pytest.approx(4 * (2048 - 64) * (6 + 1 + 4 + 3) / 1e6, rel=0.05)


def test_latency_times_calls_after_the_warm_up(catalog: Any) -> None:
    latency = catalog["metric"].get("latency_ms")
    calls: list[int] = []

    def predict(row: np.ndarray) -> None:
        assert row.shape == (1, 6)  # one row at a time
        calls.append(1)
        time.sleep(0.05 if len(calls) == 1 else 0.002)  # the first call traces: slow

    measured = latency.time_calls(predict, ROWS)
    assert 2.0 <= measured < 2.0 * 3  # the 50 ms first call is not in it; sleep only overshoots
    assert latency.warmup + latency.calls_per_round <= len(calls)
    assert len(calls) <= latency.warmup + latency.rounds * latency.calls_per_round


def test_latency_of_a_real_model_matches_an_independent_timing(catalog: Any) -> None:
    model = _model(256)
    measured = catalog["metric"].get("latency_ms").measure(model, ROWS)
    model.predict_on_batch(ROWS[:1])  # warm up, then time 60 calls of one row
    times = []
    for i in range(60):
        started = time.perf_counter()
        model.predict_on_batch(ROWS[i % 20 : i % 20 + 1])
        times.append(time.perf_counter() - started)
    reference = 1000 * statistics.median(times)
    # a generous factor: the machine may be busy, and the measure keeps its least disturbed round;
    # wrong units (seconds, microseconds) or a timed compilation would be off by 100x or more
    assert reference / 20 <= measured <= reference * 5


SPACE = {
    "study": {
        "metric": ["accuracy", "latency_ms"],
        "constraints": {"params": {"max": 1000}, "accuracy": {"min": 0.5}},
    },
    "data": {"source": {"sklearn": {"name": "iris"}}},
    "model": {"mlp": {}},
}


def test_a_trial_measures_its_metrics_then_those_of_the_constraints(catalog: Any) -> None:
    spec = load_spec(SPACE, catalog=catalog)
    assert measured_metrics(spec) == ("accuracy", "latency_ms", "params")
    assert epoch_metric(spec, catalog, SPLITS).name == "accuracy"
    values = {"accuracy": 0.4, "latency_ms": 0.3, "params": 1200.0}
    assert objective_values(spec, values) == (0.4, 0.3)
    assert violations(spec, values) == {"params": 200.0, "accuracy": pytest.approx(0.1)}
    assert broken_constraints(spec, values) == ["params 1200 > max 1000", "accuracy 0.4 < min 0.5"]
    assert broken_constraints(spec, {**values, "params": 1000.0, "accuracy": 0.5}) == []
    single = load_spec({**SPACE, "study": {"metric": "accuracy"}}, catalog=catalog)
    assert objective_values(single, {"accuracy": 0.75}) == 0.75


def test_metric_values_predict_once_and_measure_the_model(catalog: Any) -> None:
    model = _model(8)
    y = np.array([0, 1, 2] * 6 + [0, 1])
    predicted = []

    def predictions() -> np.ndarray:
        predicted.append(1)
        return np.asarray(model.predict_on_batch(ROWS))

    names = ("accuracy", "params", "log_loss")
    values = metric_values(names, catalog, model, y, predictions, ROWS, SPLITS)
    probabilities = np.asarray(model.predict_on_batch(ROWS))
    assert len(predicted) == 1
    assert values["params"] == model.count_params()
    assert values["accuracy"] == pytest.approx(np.mean(probabilities.argmax(axis=1) == y))
    with pytest.raises(
        TrialFailed, match=r"metric 'accuracy' \(plugin 'automl_plugins\.metrics'\) raised Value"
    ):
        metric_values(("accuracy",), catalog, model, y[:5], predictions, ROWS, SPLITS)


def test_a_model_measure_cannot_score_predictions(catalog: Any) -> None:
    with pytest.raises(TypeError, match="measures the model, not predictions"):
        catalog["metric"].get("params").score(np.zeros(2), np.zeros((2, 2)))
    with pytest.raises(NotImplementedError, match="'accuracy' scores predictions"):
        catalog["metric"].get("accuracy").measure(_model(2), ROWS)


def test_epoch_metric_needs_a_metric_of_the_predictions(catalog: Any) -> None:
    spec = load_spec(SPACE, catalog=catalog)
    only_measures = type(spec.study)(**{**vars(spec.study), "metrics": ("params", "latency_ms")})
    with pytest.raises(AutoMLError, match=r"every one measures the model\. Received: metric="):
        epoch_metric(type(spec)(**{**vars(spec), "study": only_measures}), catalog, SPLITS)


def test_metrics_scaled_by_the_training_data_are_fitted_to_the_splits(catalog: Any) -> None:
    """MASE scales by the training series (1, 3, 2, 5, 4: naive errors 2, 1, 3, 1 -> 7/4), not by
    the scored targets' own naive error (|7 - 6| = 1), in the epoch's metric and the trial's."""
    y_train = np.array([[1.0], [3.0], [2.0], [5.0], [4.0]])
    y_val, predicted = np.array([[6.0], [7.0]]), np.array([[5.0], [9.0]])  # MAE 1.5
    x = np.zeros((5, 4, 1), dtype="float32")
    splits = Splits(
        x, y_train, x[:2], y_val, x[:0], y_val[:0], "forecast", None,
        schema={"stride": 1, "period": 1},
    )  # fmt: skip
    spec = load_spec(SPACE, catalog=catalog)
    mase_study = type(spec.study)(**{**vars(spec.study), "metrics": ("mase",), "constraints": ()})
    epoch = epoch_metric(type(spec)(**{**vars(spec), "study": mase_study}), catalog, splits)
    assert epoch.score(y_val, predicted) == pytest.approx(1.5 / 1.75)
    values = metric_values(("mase",), catalog, _model(2), y_val, lambda: predicted, x, splits)
    assert values == {"mase": pytest.approx(1.5 / 1.75)}
    assert catalog["metric"].get("mase").score(y_val, predicted) == pytest.approx(1.5)
