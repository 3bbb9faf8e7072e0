"""Losses against formulas, Keras' own losses and scikit-learn; class weights; task fit."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error
from sklearn.utils.class_weight import compute_class_weight

from automl.data import Splits
from automl.errors import SpecError, TrialFailed
from automl.spec import load_spec
from automl.trial import class_weights
from automl_plugins.keras_objects import FocalCrossentropy, SparseCategoricalCrossentropyLS


def value(loss: Any, y_true: Any, y_pred: Any) -> float:
    return float(keras.ops.convert_to_numpy(loss(np.asarray(y_true), np.asarray(y_pred))))


def build(catalog: Any, name: str, task: str, n_classes: int = 0, **params: Any) -> Any:
    loss = catalog["loss"].get(name)
    return loss.build(task, n_classes, **{**loss.defaults(), **params})


# ------------------------------------------------------------------------------------ focal
def test_binary_focal_matches_the_formula_on_hand_computed_values(catalog: Any) -> None:
    y = np.array([[1.0], [0.0], [1.0]], dtype="float32")
    p = np.array([[0.9], [0.2], [0.3]], dtype="float32")
    # p_t = 0.9, 0.8, 0.3; loss = -(1 - p_t)^2 * log(p_t)
    expected = [
        -(0.1**2) * math.log(0.9),  # 0.0010536
        -(0.2**2) * math.log(0.8),  # 0.0089257
        -(0.7**2) * math.log(0.3),  # 0.5899467
    ]
    loss = build(catalog, "focal", "binary", gamma=2.0)
    assert value(loss, y, p) == pytest.approx(np.mean(expected), rel=1e-5)
    assert np.mean(expected) == pytest.approx(0.1999753, rel=1e-5)


def test_multiclass_focal_matches_the_formula(catalog: Any) -> None:
    y = np.array([0, 2], dtype="int64")
    p = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]], dtype="float32")
    expected = [-(0.3**3) * math.log(0.7), -(0.5**3) * math.log(0.5)]
    loss = build(catalog, "focal", "multiclass", 3, gamma=3.0)
    assert value(loss, y, p) == pytest.approx(np.mean(expected), rel=1e-5)


def test_focal_with_gamma_zero_is_cross_entropy(catalog: Any) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(20, 1)).astype("float32")
    p = rng.uniform(0.05, 0.95, size=(20, 1)).astype("float32")
    focal = build(catalog, "focal", "binary", gamma=0.0)
    bce = keras.losses.BinaryCrossentropy()
    assert value(focal, y, p) == pytest.approx(value(bce, y, p), rel=1e-5)
    assert value(focal, y, p) == pytest.approx(log_loss(y.ravel(), p.ravel()), rel=1e-4)

    labels = rng.integers(0, 4, size=20)
    probs = rng.dirichlet(np.ones(4), size=20).astype("float32")
    focal = build(catalog, "focal", "multiclass", 4, gamma=0.0)
    sce = keras.losses.SparseCategoricalCrossentropy()
    assert value(focal, labels, probs) == pytest.approx(value(sce, labels, probs), rel=1e-5)


def test_focal_class_balancing_weights_by_alpha(catalog: Any) -> None:
    y = np.array([[1.0], [0.0]], dtype="float32")
    p = np.array([[0.6], [0.3]], dtype="float32")
    loss = build(catalog, "focal", "binary", gamma=1.0, alpha=0.25, class_balancing=True)
    expected = [-0.25 * 0.4 * math.log(0.6), -0.75 * 0.3 * math.log(0.7)]
    assert value(loss, y, p) == pytest.approx(np.mean(expected), rel=1e-5)


def test_focal_serializes() -> None:
    loss = FocalCrossentropy(gamma=1.5, alpha=0.4, class_balancing=True)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(again, FocalCrossentropy)
    assert (again.gamma, again.alpha, again.class_balancing) == (1.5, 0.4, True)


# ------------------------------------------------------------------------------ cross-entropy
def test_crossentropy_is_chosen_from_the_task(catalog: Any) -> None:
    assert isinstance(build(catalog, "crossentropy", "binary"), keras.losses.BinaryCrossentropy)
    sparse = build(catalog, "crossentropy", "multiclass", 3)
    assert isinstance(sparse, keras.losses.SparseCategoricalCrossentropy)
    smoothed = build(catalog, "crossentropy", "multiclass", 3, label_smoothing=0.1)
    assert isinstance(smoothed, SparseCategoricalCrossentropyLS)
    binary = build(catalog, "crossentropy", "binary", label_smoothing=0.2)
    assert binary.get_config()["label_smoothing"] == pytest.approx(0.2)


def test_sparse_label_smoothing_equals_categorical_on_one_hot(catalog: Any) -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, size=16)
    probs = rng.dirichlet(np.ones(3), size=16).astype("float32")
    one_hot = np.eye(3, dtype="float32")[labels]
    ours = build(catalog, "crossentropy", "multiclass", 3, label_smoothing=0.1)
    reference = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)
    assert value(ours, labels, probs) == pytest.approx(value(reference, one_hot, probs), rel=1e-5)
    # by hand for one row: targets 0.1/3 + 0.9 on the true class
    smoothed = one_hot[0] * 0.9 + 0.1 / 3
    by_hand = -np.sum(smoothed * np.log(probs[0]))
    assert value(ours, labels[:1], probs[:1]) == pytest.approx(by_hand, rel=1e-5)
    plain = SparseCategoricalCrossentropyLS(0.0)
    assert value(plain, labels, probs) == pytest.approx(log_loss(labels, probs), rel=1e-4)


# --------------------------------------------------------------------------------- regression
def test_regression_losses_match_scikit_learn_and_the_huber_formula(catalog: Any) -> None:
    y = np.array([[1.0], [2.0], [3.0], [10.0]], dtype="float32")
    p = np.array([[1.5], [2.0], [5.0], [4.0]], dtype="float32")
    mse = value(build(catalog, "mse", "regression"), y, p)
    mae = value(build(catalog, "mae", "regression"), y, p)
    assert mse == pytest.approx(mean_squared_error(y, p), rel=1e-6)
    assert mae == pytest.approx(mean_absolute_error(y, p), rel=1e-6)
    err = np.abs(y - p).ravel()
    delta = 1.5
    huber = np.where(err <= delta, 0.5 * err**2, delta * (err - 0.5 * delta)).mean()
    assert value(build(catalog, "huber", "regression", delta=delta), y, p) == pytest.approx(huber)


# ------------------------------------------------------------------------------ class weights
def splits_with(y: np.ndarray, names: list[str]) -> Splits:
    x = np.zeros((len(y), 1), dtype="float32")
    task = "binary" if len(names) == 2 else "multiclass"
    return Splits(x, y, x, y, x, y, task, names)


def test_balanced_class_weights_match_scikit_learn() -> None:
    y = np.array([0] * 90 + [1] * 10)
    ours = class_weights("balanced", splits_with(y, ["no", "yes"]))
    reference = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    assert ours == pytest.approx(dict(enumerate(reference)))
    assert ours == pytest.approx({0: 100 / 180, 1: 5.0})


def test_class_weights_by_label_and_unknown_labels() -> None:
    splits = splits_with(np.array([0, 1, 2, 2]), ["a", "b", "c"])
    assert class_weights({"b": 3.0}, splits) == {0: 1.0, 1: 3.0, 2: 1.0}
    with pytest.raises(TrialFailed, match=r"names classes the data does not have: \['z'\]"):
        class_weights({"z": 2.0}, splits)


def test_class_weight_is_validated(catalog: Any) -> None:
    data = {
        "data": {"source": {"sklearn": {"name": "breast_cancer"}}},
        "training": {"class_weight": "balanced"},
        "model": "mlp",
    }
    assert load_spec(data, catalog=catalog).training.class_weight == "balanced"
    data["training"] = {"class_weight": "balancd"}
    with pytest.raises(SpecError, match=r"training\.class_weight"):
        load_spec(data, catalog=catalog)


# ---------------------------------------------------------------------------------- task fit
@pytest.mark.parametrize(
    ("source", "loss", "task"),
    [
        ("breast_cancer", "mse", "binary"),
        ("iris", "huber", "multiclass"),
        ("diabetes", "focal", "regression"),
        ("diabetes", "crossentropy", "regression"),
    ],
)
def test_a_loss_that_does_not_fit_the_task_fails_validation(
    catalog: Any, source: str, loss: str, task: str
) -> None:
    data = {
        "data": {"source": {"sklearn": {"name": source}}},
        "model": "mlp",
        "loss": loss,
        "study": {"metric": "rmse" if task == "regression" else "accuracy"},
    }
    with pytest.raises(SpecError, match=f"loss '{loss}' does not fit a {task} task"):
        load_spec(data, catalog=catalog)
