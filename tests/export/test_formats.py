"""Every format's round trip: written, loaded back by its own runtime, compared with Keras."""

from __future__ import annotations

import csv
import json
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import automl
from automl.errors import ExportError
from automl.export import export_model, parse_formats
from automl.export._formats import WRITERS, tolerance, write_format
from automl.study import tune

REPO = Path(__file__).resolve().parents[2]
CHURN = REPO / "search_spaces" / "data" / "churn.csv"

Predict = Callable[[Path, np.ndarray], np.ndarray]


def test_every_format_is_written_and_checked(exported_all: Path) -> None:
    card = json.loads((exported_all / "model.json").read_text())
    assert set(card["formats"]) == {"keras", "saved_model", "onnx", "tflite"}
    for fmt, info in card["formats"].items():
        assert (exported_all / info["path"]).exists(), fmt
        assert 0.0 <= info["max_abs_diff"] <= info["tolerance"] <= 1e-3, (fmt, info)
        assert info["checked_rows"] == card["data"]["test_rows"] == 360
    assert not list(exported_all.parent.glob(".all.*")), "temporary directory left behind"


def test_saved_model_predicts_like_keras(
    exported_all: Path, test_rows: tuple[np.ndarray, np.ndarray], keras_predictions: Predict
) -> None:
    import tensorflow as tf

    x, _ = test_rows
    served = tf.saved_model.load(str(exported_all / "saved_model"))
    got = np.asarray(served.serve(tf.constant(x)))
    np.testing.assert_allclose(got, keras_predictions(exported_all, x), atol=1e-5)


def test_onnx_has_one_input_and_predicts_like_keras(
    exported_all: Path, test_rows: tuple[np.ndarray, np.ndarray], keras_predictions: Predict
) -> None:
    import onnx
    import onnxruntime as ort

    graph = onnx.load(str(exported_all / "model.onnx")).graph
    # the min_max constants are initializers inside the graph, not inputs callers must feed
    assert [i.name for i in graph.input] == ["inputs"]
    assert [o.name for o in graph.output] == ["outputs"]
    x, _ = test_rows
    session = ort.InferenceSession(
        str(exported_all / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    got = session.run(None, {"inputs": x})[0]
    np.testing.assert_allclose(got, keras_predictions(exported_all, x), atol=1e-5)


def test_tflite_predicts_like_keras(
    exported_all: Path, test_rows: tuple[np.ndarray, np.ndarray], keras_predictions: Predict
) -> None:
    import tensorflow as tf

    x, _ = test_rows
    interpreter = tf.lite.Interpreter(model_path=str(exported_all / "model.tflite"))
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, keras_predictions(exported_all, x), atol=1e-5)


def test_a_format_that_disagrees_is_an_error(
    space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = WRITERS["onnx"]
    monkeypatch.setitem(WRITERS, "onnx", lambda m, p, x: real(m, p, x) + 0.01)
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


def test_tolerance_is_float32_round_off_in_target_units() -> None:
    assert tolerance(np.array([[0.2, 0.8]])) == 1e-4
    assert tolerance(np.array([-250.0, 3.0])) == pytest.approx(0.025)
    assert tolerance(np.zeros((0, 3))) == 1e-4


def test_a_writer_that_raises_or_predicts_another_shape_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, reference = np.zeros((3, 4), dtype="float32"), np.zeros((3, 2))

    def broken(model: object, path: Path, rows: np.ndarray) -> np.ndarray:
        raise RuntimeError("converter crashed")

    monkeypatch.setitem(WRITERS, "tflite", broken)
    with pytest.raises(
        ExportError, match=r"^the tflite export failed: RuntimeError: converter crashed$"
    ):
        write_format("tflite", None, tmp_path, x, reference)
    monkeypatch.setitem(WRITERS, "tflite", lambda m, p, rows: np.zeros((3, 3)))
    with pytest.raises(
        ExportError,
        match=r"the tflite file predicts the wrong shape: expected \(3, 2\)\. "
        r"Received: shape=\(3, 3\)",
    ):
        write_format("tflite", None, tmp_path, x, reference)
    # the same values in another layout (a flat output) are reshaped, then compared
    monkeypatch.setitem(WRITERS, "tflite", lambda m, p, rows: np.zeros(6))
    info = write_format("tflite", None, tmp_path, x, reference)
    assert (info["path"], info["max_abs_diff"], info["checked_rows"]) == ("model.tflite", 0.0, 3)


# --- a model that takes text (categorical) columns ---------------------------------------------

CHURN_SPACE = """
study: {name: export-churn, metric: accuracy, trials: 1, sampler: {random: {}}, pruner: none,
        seed: 0}
data:
  source: {csv: {path: churn.csv, target: churned}}
  folds: 1
  validation: 0.2
  test: 0.2
training: {epochs: 2, batch_size: 32}
preprocessors: [impute, one_hot, standardize]
model:
  mlp: {layers: 1, units: 16}
activation: relu
loss: crossentropy
optimizer: adam
"""


@pytest.fixture(scope="module")
def churn_space(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tuned one-trial study on churn.csv (its runs/ lives beside the space file)."""
    root = tmp_path_factory.mktemp("churn")
    shutil.copy(CHURN, root / "churn.csv")
    space = root / "space.yaml"
    space.write_text(textwrap.dedent(CHURN_SPACE).lstrip())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(root / "runs"))
        tune(str(space), progress=False)
    return space


def test_text_model_exports_keras_and_saved_model_only(
    churn_space: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tensorflow as tf

    root = churn_space.parent
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(root / "runs"))
    out = export_model(str(churn_space), root / "sm", formats="saved_model")
    served = tf.saved_model.load(str(out / "saved_model"))
    with CHURN.open(newline="") as handle:
        names, *rows = list(csv.reader(handle))[:51]
    keep = [i for i, n in enumerate(names) if n != "churned"]
    cells = np.asarray([[r[i] if r[i] != "NA" else "" for i in keep] for r in rows])
    got = served.serve(tf.constant(cells)).numpy()
    np.testing.assert_allclose(got, automl.load(out).predict_proba(cells)[:, 1:], atol=1e-6)
    with pytest.raises(ExportError, match=r"onnx and tflite need numeric inputs.*text"):
        export_model(str(churn_space), root / "bad", formats="all")
