"""Every format's round trip: written, loaded back by its own runtime, compared with Keras."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from study_util import tune_space

import automl
from automl.errors import ExportError
from automl.export import export_model, parse_formats
from automl.export._formats import RUNTIMES, SAVERS, plan_formats, tolerance, write_format

REPO = Path(__file__).resolve().parents[2]
CHURN = REPO / "search_spaces" / "data" / "churn.csv"

Predict = Callable[[Path, np.ndarray], np.ndarray]


def test_every_format_is_written_and_checked(exported_all: Path) -> None:
    card = json.loads((exported_all / "model.json").read_text())
    assert set(card["formats"]) == {"keras", "saved_model", "onnx", "tflite"}
    for fmt, info in card["formats"].items():
        path = exported_all / info["path"]
        files = [f for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path]
        assert info["bytes"] == sum(f.stat().st_size for f in files) > 0, fmt
        assert 0.0 <= info["max_abs_diff"] <= info["tolerance"] <= 1e-3, (fmt, info)
        assert info["checked_rows"] == card["data"]["test_rows"] == 360
        latency = info["latency"]
        assert (latency["batch_rows"], latency["repeats"]) == (256, 5)
        assert latency["ms_per_row_in_batch"] > 0 and 0 < latency["ms_single_row"] < 10_000
    assert card["skipped_formats"] == {}
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
    real = RUNTIMES["onnx"]
    monkeypatch.setitem(RUNTIMES, "onnx", lambda path: lambda x: real(path)(x) + 0.01)
    with pytest.raises(ExportError, match=r"the onnx file does not reproduce the Keras model: max"):
        export_model(str(space), tmp_path / "bad", formats="onnx")
    assert not (tmp_path / "bad").exists()
    assert not list(tmp_path.glob(".bad.*"))


def test_format_names() -> None:
    assert parse_formats(None) == ("keras",)
    assert parse_formats("onnx, litert") == ("keras", "onnx", "tflite")
    assert parse_formats("all") == ("keras", "saved_model", "onnx", "tflite")
    with pytest.raises(
        ExportError, match=r"did you mean 'onnx'\? Expected one of .* Received: format='onxx'"
    ):
        parse_formats("keras,onxx")


def test_tolerance_is_float32_round_off_in_target_units() -> None:
    assert tolerance(np.array([[0.2, 0.8]])) == 1e-4
    assert tolerance(np.array([-250.0, 3.0])) == pytest.approx(0.025)
    assert tolerance(np.zeros((0, 3))) == 1e-4


def test_a_writer_that_raises_or_predicts_another_shape_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, reference = np.zeros((3, 4), dtype="float32"), np.zeros((3, 2))

    def broken(model: object, path: Path, rows: np.ndarray) -> None:
        raise RuntimeError("converter crashed")

    monkeypatch.setitem(SAVERS, "tflite", broken)
    with pytest.raises(
        ExportError, match=r"^the tflite export failed: RuntimeError: converter crashed$"
    ):
        write_format("tflite", None, tmp_path, x, reference)
    monkeypatch.setitem(SAVERS, "tflite", lambda m, path, rows: path.write_bytes(b"1234"))
    monkeypatch.setitem(RUNTIMES, "tflite", lambda path: lambda rows: np.zeros((3, 3)))
    with pytest.raises(
        ExportError,
        match=r"the tflite file predicts the wrong shape: expected \(3, 2\)\. "
        r"Received: shape=\(3, 3\)",
    ):
        write_format("tflite", None, tmp_path, x, reference)
    # the same values in another layout (a flat output) are reshaped, then compared
    monkeypatch.setitem(RUNTIMES, "tflite", lambda path: lambda rows: np.zeros(2 * len(rows)))
    info = write_format("tflite", None, tmp_path, x, reference)
    assert (info["path"], info["max_abs_diff"], info["checked_rows"]) == ("model.tflite", 0.0, 3)
    assert (info["bytes"], info["latency"]["batch_rows"]) == (4, 3)


def test_all_skips_what_this_model_cannot_be_exported_to() -> None:
    numbers, text = np.zeros((2, 3), dtype="float32"), np.array([["a", "1"], ["b", ""]])
    assert plan_formats("all", numbers) == (("keras", "saved_model", "onnx", "tflite"), {})
    chosen, skipped = plan_formats("all", text)
    assert chosen == ("keras", "saved_model")
    assert skipped == {
        "onnx": "text inputs: tf2onnx cannot convert the string ops",
        "tflite": "text inputs: the string ops need TFLite's Flex delegate, which "
        "tf.lite.Interpreter lacks",
    }
    assert plan_formats("saved_model", text) == (("keras", "saved_model"), {})
    with pytest.raises(ExportError, match=r"^onnx cannot be exported for this model: onnx: text"):
        plan_formats("keras,onnx", text)


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
    return tune_space(root, CHURN_SPACE)[0]


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
    with pytest.raises(ExportError, match=r"onnx and tflite cannot be exported for this model"):
        export_model(str(churn_space), root / "bad", formats="onnx,tflite")
    every = export_model(str(churn_space), root / "every", formats="all")
    card = json.loads((every / "model.json").read_text())
    assert list(card["formats"]) == ["keras", "saved_model"]
    assert list(card["skipped_formats"]) == ["onnx", "tflite"]
    assert sorted(p.name for p in every.iterdir()) == [
        "MODEL_CARD.md",
        "model.json",
        "model.keras",
        "saved_model",
    ]
    assert "- `onnx` skipped: text inputs: tf2onnx cannot" in (every / "MODEL_CARD.md").read_text()
