"""`automl export`: every format's round trip, the model card, --retrain, --trial and every error.

One small digits CNN study (min_max preprocessing inside the model) is tuned once per module;
the tests export it in several ways.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from automl.data import load_splits
from automl.errors import AutoMLError
from automl.export import ExportError, export_model, parse_formats
from automl.spec import load_spec, open_space
from automl.study import checkpoint_path, open_study, tune

SPACE = """
study:
  name: export-digits
  metric: accuracy
  trials: 2
  sampler: {random: {}}
  pruner: none
  seed: 0
data:
  source: {sklearn: {name: digits}}
  validation: 0.2
  test: 0.2
training:
  epochs: 2
  batch_size: 32
preprocessors: [min_max]
model:
  cnn: {blocks: 1, filters: 8, kernel_size: 3, pooling: max, dense_units: 32, dropout: 0.0}
loss: crossentropy
optimizer:
  sgd: {learning_rate: {low: 0.01, high: 0.02, log: true}, momentum: 0.9}
"""


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tuned two-trial study; yields the space file (its runs/ lives beside it)."""
    root = tmp_path_factory.mktemp("export")
    space = root / "space.yaml"
    space.write_text(textwrap.dedent(SPACE).lstrip())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(root / "runs"))
        result = tune(str(space), progress=False)
        assert sum(r["state"] == "complete" for r in result.leaderboard) == 2
        yield space


@pytest.fixture
def space(tuned: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tuned space, with AUTOML_RUNS_DIR pointing at its study."""
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tuned.parent / "runs"))
    return tuned


@pytest.fixture(scope="module")
def exported_all(tuned: Path) -> Iterator[Path]:
    """The best trial exported in every format (once per module)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(tuned.parent / "runs"))
        yield export_model(str(tuned), tuned.parent / "all", formats="all")


def _test_split(space: Path) -> tuple[np.ndarray, np.ndarray]:
    spec, catalog = open_space(str(space))
    splits = load_splits(spec, catalog)
    return splits.x_test.astype("float32"), splits.y_test


def _keras_predictions(directory: Path, x: np.ndarray) -> np.ndarray:
    import keras

    model = keras.saving.load_model(directory / "model.keras", safe_mode=True)
    return np.asarray(model.predict(x, verbose=0))


# --- formats -----------------------------------------------------------------------------------


def test_every_format_is_written_and_checked(exported_all: Path) -> None:
    card = json.loads((exported_all / "model.json").read_text())
    assert set(card["formats"]) == {"keras", "saved_model", "onnx", "tflite"}
    for fmt, info in card["formats"].items():
        assert (exported_all / info["path"]).exists(), fmt
        assert 0.0 <= info["max_abs_diff"] <= info["tolerance"] <= 1e-3, (fmt, info)
        assert info["checked_rows"] == card["data"]["test_rows"] == 360
    assert not list(exported_all.parent.glob(".all.*")), "temporary directory left behind"


def test_saved_model_predicts_like_keras(exported_all: Path, space: Path) -> None:
    import tensorflow as tf

    x, _ = _test_split(space)
    served = tf.saved_model.load(str(exported_all / "saved_model"))
    got = np.asarray(served.serve(tf.constant(x)))
    np.testing.assert_allclose(got, _keras_predictions(exported_all, x), atol=1e-5)


def test_onnx_has_one_input_and_predicts_like_keras(exported_all: Path, space: Path) -> None:
    import onnx
    import onnxruntime as ort

    graph = onnx.load(str(exported_all / "model.onnx")).graph
    # the min_max constants are initializers inside the graph, not inputs callers must feed
    assert [i.name for i in graph.input] == ["inputs"]
    assert [o.name for o in graph.output] == ["outputs"]
    x, _ = _test_split(space)
    session = ort.InferenceSession(
        str(exported_all / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    got = session.run(None, {"inputs": x})[0]
    np.testing.assert_allclose(got, _keras_predictions(exported_all, x), atol=1e-5)


def test_tflite_predicts_like_keras(exported_all: Path, space: Path) -> None:
    import tensorflow as tf

    x, _ = _test_split(space)
    interpreter = tf.lite.Interpreter(model_path=str(exported_all / "model.tflite"))
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, _keras_predictions(exported_all, x), atol=1e-5)


def test_a_format_that_disagrees_is_an_error(space: Path, tmp_path: Path, monkeypatch) -> None:
    import automl.export as export

    real = export.WRITERS["onnx"]
    monkeypatch.setitem(export.WRITERS, "onnx", lambda m, p, x: real(m, p, x) + 0.01)
    with pytest.raises(ExportError, match=r"the onnx file does not reproduce the Keras model: max"):
        export_model(str(space), tmp_path / "bad", formats="onnx")
    assert not (tmp_path / "bad").exists()
    assert not list(tmp_path.glob(".bad.*"))


def test_format_names() -> None:
    assert parse_formats(None) == ("keras",)
    assert parse_formats("onnx, litert") == ("keras", "onnx", "tflite")
    assert parse_formats("all") == ("keras", "saved_model", "onnx", "tflite")
    with pytest.raises(ExportError, match=r"Did you mean 'onnx'\? Received: format='onxx'"):
        parse_formats("keras,onxx")


# --- the model card ----------------------------------------------------------------------------


def test_model_card(exported_all: Path, space: Path) -> None:
    from sklearn.metrics import confusion_matrix, precision_score, recall_score

    card = json.loads((exported_all / "model.json").read_text())
    x, y = _test_split(space)
    pred = _keras_predictions(exported_all, x).argmax(axis=1)
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
    text = (exported_all / "MODEL_CARD.md").read_text()
    assert f"test accuracy: {card['test_score']:.4f}" in text
    assert "| `model.onnx` |" in text


# --- which weights -----------------------------------------------------------------------------


def test_trial_option_exports_that_trial(space: Path, tmp_path: Path) -> None:
    study = open_study(load_spec(str(space)), create=False)
    other = next(t.number for t in study.trials if t.number != study.best_trial.number)
    card = json.loads(
        (export_model(str(space), tmp_path / "t", trial=other) / "model.json").read_text()
    )
    assert card["trial"] == other
    assert card["validation_score"] == pytest.approx(study.trials[other].value)
    assert set(card["formats"]) == {"keras"}


def test_retrain_improves_or_matches_the_tuned_weights(space: Path, tmp_path: Path) -> None:
    tuned = json.loads((export_model(str(space), tmp_path / "tuned") / "model.json").read_text())
    out = export_model(str(space), tmp_path / "retrained", retrain=True, formats="onnx")
    card = json.loads((out / "model.json").read_text())
    assert (
        card["retrained"]["train_rows"]
        == card["data"]["train_rows"] + card["data"]["validation_rows"]
    )
    assert card["retrained"]["epochs"] == tuned["best_epoch"]
    assert card["validation_score"] == tuned["validation_score"]  # the tuned trial's own score
    assert card["test_score"] >= tuned["test_score"]
    assert card["formats"]["onnx"]["max_abs_diff"] <= 1e-4


# --- errors ------------------------------------------------------------------------------------


def test_existing_directory_needs_force(space: Path, tmp_path: Path) -> None:
    out = tmp_path / "best"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(ExportError, match=r"already exists: pass --force to replace it"):
        export_model(str(space), out)
    assert (out / "keep.txt").exists()
    export_model(str(space), out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["MODEL_CARD.md", "model.json", "model.keras"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]  # nothing set aside is left
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ExportError, match=r"already exists"):
        export_model(str(space), a_file)
    assert (export_model(str(space), a_file, force=True) / "model.keras").exists()


def test_no_finished_trial_is_an_error(write_space, tmp_path: Path) -> None:
    path = write_space(SPACE.replace("export-digits", "export-empty"))
    open_study(load_spec(str(path)))  # created, never run
    with pytest.raises(
        AutoMLError, match=r"no finished trial to export yet: run `automl tune` first"
    ):
        export_model(str(path), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_trial_is_an_error(space: Path, tmp_path: Path) -> None:
    with pytest.raises(AutoMLError, match=r"study 'export-digits' has no trial 99"):
        export_model(str(space), tmp_path / "out", trial=99)


def test_missing_checkpoint_suggests_retrain(space: Path, tmp_path: Path) -> None:
    spec = load_spec(str(space))
    ckpt = checkpoint_path(spec, 1)
    saved = ckpt.read_bytes()
    ckpt.unlink()
    try:
        with pytest.raises(
            ExportError, match=r"checkpoint of trial 1 is not on this machine.*--retrain"
        ):
            export_model(str(space), tmp_path / "out", trial=1)
    finally:
        ckpt.write_bytes(saved)


def test_cli_export_and_errors(space: Path, tmp_path: Path, capsys) -> None:
    from automl.cli import main

    out = tmp_path / "cli"
    assert main(["export", str(space), "--out", str(out), "--format", "saved_model"]) == 0
    printed = capsys.readouterr().out
    assert f"to {out}: validation accuracy" in printed
    assert "saved_model: max abs difference vs Keras" in printed
    assert main(["export", str(space), "--out", str(out)]) == 4
    assert "already exists: pass --force" in capsys.readouterr().err
    assert main(["export", str(space), "--out", str(tmp_path / "x"), "--format", "pdf"]) == 4
    assert "Unknown export format" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["cli"]


def test_public_export_model_function(space: Path, tmp_path: Path) -> None:
    import automl
    import automl.export  # the module keeps its own name; the function is export_model

    assert (automl.export_model(str(space), tmp_path / "api") / "model.keras").exists()
