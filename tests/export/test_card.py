"""The model card: `model.json` checked against scikit-learn, and `MODEL_CARD.md`."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from automl.data import Splits
from automl.export._card import evaluation, input_schema, model_card_markdown, plugins_used
from automl.spec import load_spec
from automl.storage import open_study


def test_model_card(
    exported_all: Path,
    space: Path,
    test_rows: tuple[np.ndarray, np.ndarray],
    keras_predictions: Callable[[Path, np.ndarray], np.ndarray],
) -> None:
    from sklearn.metrics import confusion_matrix, precision_score, recall_score

    card = json.loads((exported_all / "model.json").read_text())
    x, y = test_rows
    pred = keras_predictions(exported_all, x).argmax(axis=1)
    ev = card["evaluation"]
    assert ev["split"] == "test"
    assert card["test_score"] == pytest.approx(float((pred == y).mean()))
    assert ev["confusion_matrix"] == confusion_matrix(y, pred, labels=range(10)).tolist()
    precision = precision_score(y, pred, average=None, labels=range(10), zero_division=0)
    recall = recall_score(y, pred, average=None, labels=range(10), zero_division=0)
    assert [ev["per_class"][str(c)]["precision"] for c in range(10)] == pytest.approx(precision)
    assert [ev["per_class"][str(c)]["recall"] for c in range(10)] == pytest.approx(recall)
    study = open_study(load_spec(str(space)), create=False)
    assert card["trial"] == study.best_trial.number
    assert card["validation_score"] == pytest.approx(study.best_value)
    assert card["params"] == study.best_trial.params
    assert card["class_labels"] == [str(i) for i in range(10)]
    assert card["input_schema"]["shape"] == [8, 8, 1]
    assert card["input_schema"]["dtype"] == "float32"
    assert card["training_seconds"]["trial"] > 0
    assert {"keras", "tensorflow", "numpy", "onnx"} <= set(card["versions"])
    assert card["plugins"] and card["retrained"] is None
    # a hold-out study: the estimate is the best trial's validation score, without a spread
    assert card["estimate"]["mean"] == pytest.approx(study.best_value)
    assert card["estimate"]["std"] is None
    assert card["estimate"]["method"] == "the validation split of a hold-out study"
    assert card["gap"] == pytest.approx(card["estimate"]["mean"] - card["test_score"])
    assert card["test_interval"]["low"] <= card["test_score"] <= card["test_interval"]["high"]
    assert card["threshold"] is None  # multiclass: the most probable class
    assert card["export"]["kind"] == "trial"
    assert card["export"]["members"] == [{"trial": card["trial"], "fold": 0, "weight": 1.0}]
    text = (exported_all / "MODEL_CARD.md").read_text()
    assert f"- Test accuracy: {card['test_score']:.4f} (95% bootstrap interval" in text
    assert "| `model.onnx` |" in text


def test_evaluation_of_a_classifier() -> None:
    proba = np.eye(3)[[0, 1, 2, 2]] * 0.9 + 0.03  # predicts 0, 1, 2, 2
    ev = evaluation(np.array([0, 1, 1, 2]), proba, "multiclass", ["a", "b", "c"])
    assert ev["rows"] == 4 and ev["accuracy"] == 0.75
    assert ev["confusion_matrix"] == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert ev["confusion_matrix_labels"] == ["a", "b", "c"]
    b = {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    c = {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1}
    assert ev["per_class"]["b"] == pytest.approx(b)
    assert ev["per_class"]["c"] == pytest.approx(c)


def test_evaluation_of_a_regression() -> None:
    ev = evaluation(np.array([1.0, 2.0, 4.0]), np.array([[1.5], [2.0], [3.0]]), "regression", None)
    # errors 0.5, 0, 1; the targets' mean is 7/3, their sum of squares about it 14/3
    assert ev == {
        "rows": 3,
        "mae": pytest.approx(0.5),
        "rmse": pytest.approx(math.sqrt(1.25 / 3)),
        "r2": pytest.approx(1 - 1.25 / (14 / 3)),
    }
    assert evaluation(np.array([1.0]), np.array([2.0]), "regression", None)["r2"] is None


def test_input_schema_of_text_columns() -> None:
    x = np.array([["oslo", "3"], ["paris", ""]], dtype=object)
    splits = Splits(
        x, np.array([0, 1]), x[:0], x[:0], x[:0], x[:0], "binary", ["no", "yes"],
        feature_names=["city", "calls"], schema={"format": "csv", "target": "churned"},
    )  # fmt: skip
    assert input_schema(splits) == {
        "format": "csv",
        "target": "churned",
        "kind": "tabular",
        "shape": [2],
        "dtype": "string",
        "feature_names": ["city", "calls"],
    }


def test_plugins_used_names_each_plugin_once_with_its_distribution(catalog: Any) -> None:
    used = plugins_used(
        [
            ("model_family", "mlp"),
            ("loss", "crossentropy"),
            ("model_family", "cnn"),
            ("model_family", "not-registered"),
            ("metric", "accuracy"),
        ],
        catalog,
    )
    version = metadata.version("automl-keras")
    assert used == [
        {
            "plugin": f"automl_plugins.{module}",
            "source": "built-in",
            "distribution": "automl-keras",
            "version": version,
            "components": components,
        }
        for module, components in [
            ("models", ["model_family:mlp", "model_family:cnn"]),
            ("losses", ["loss:crossentropy"]),
            ("metrics", ["metric:accuracy"]),
        ]
    ]


def _regression_card() -> dict[str, Any]:
    names = [f"f{i}" for i in range(14)]
    return {
        "study": "house",
        "trial": 7,
        "task": "regression",
        "data": {"name": "houses", "development_rows": 80, "folds": 5, "train_rows": 64,
                 "validation_rows": 16, "test_rows": 0},
        "input_schema": {"kind": "tabular", "shape": [14], "dtype": "float32",
                         "feature_names": names},
        "metric": "rmse",
        "validation_score": 1.5,
        "estimate": {"mean": 1.5, "std": 0.25, "folds": [1.25, 1.75], "rows": 80, "method":
                     "5-fold cross-validation of the configuration, refit on all 80 rows"},
        "test_score": None,
        "test_interval": None,
        "gap": None,
        "threshold": None,
        "export": {"kind": "single", "members": [{"trial": 7, "fold": None, "weight": 1.0}],
                   "parameters": 1234, "selection": None},
        "retrained": {"train_rows": 80, "epochs": 9, "seconds": 2.25},
        "class_labels": None,
        "params": {},
        "evaluation": {"split": "out-of-fold", "rows": 80, "mae": 1.0, "rmse": 2.0, "r2": None},
        "formats": {"keras": {"path": "model.keras", "bytes": 4096, "max_abs_diff": 0.0,
                              "latency": {"batch_rows": 20, "ms_per_row_in_batch": 0.01,
                                          "ms_single_row": 0.5, "repeats": 5}}},
        "keras_backend": "tensorflow",
    }  # fmt: skip


def test_model_card_markdown_of_a_retrained_regression() -> None:
    text = model_card_markdown(_regression_card())
    assert text.splitlines()[:9] == [
        "# Model card: house, trial 7",
        "",
        "- Task: regression; data: houses (80 development rows in 5 folds / 0 test rows)",
        "- Input: tabular, shape (14,), float32, columns "
        + ", ".join(f"f{i}" for i in range(12))
        + " ...",
        "- Estimate: rmse 1.5000 ± 0.2500, from 5-fold cross-validation of the configuration, "
        "refit on all 80 rows",
        "- Test: no test split (`data.test: 0`)",
        "- Model: one model retrained on all 80 development rows for 9 epochs; 1,234 parameters; "
        "Keras 0.50 ms for one row, 0.010 ms per row in batches of 20",
        "",
        "## Parameters",
    ]
    assert "- (none searched)\n\n## Evaluation on the out-of-fold split\n" in text
    assert "MAE 1.0000, RMSE 2.0000, R2 -\n" in text
    assert "| `model.keras` | 4.0 KB | 0.00e+00 | 0.0100 | 0.500 |" in text
    card = _regression_card()
    del card["formats"]["keras"]["bytes"], card["formats"]["keras"]["latency"]
    text = model_card_markdown(card)
    assert "| `model.keras` | - | 0.00e+00 | - | - |" in text  # a card without sizes and latency
    assert "; 1,234 parameters\n" in text
    assert text.endswith("Keras backend tensorflow; versions in `model.json`.\n")
