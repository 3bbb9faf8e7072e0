"""Every Keras backend: tune, export `.keras`, load and predict (marked `backends`: `make test`
runs them on TensorFlow, then again under KERAS_BACKEND=jax), and the features that need the
TensorFlow backend are refused up front on the others."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.metrics import accuracy_score

import automl
from automl.backends import TENSORFLOW_BACKEND_ONLY, backend, require_tensorflow
from automl.cli import main
from automl.data import load_partition
from automl.spec import open_space

pytestmark = pytest.mark.backends
ON_TENSORFLOW = keras.backend.backend() == "tensorflow"
CHURN = Path(__file__).resolve().parents[1] / "search_spaces" / "data" / "churn.csv"

SPACE = """
study: {name: backend, trials: 2, sampler: random, pruner: none, seed: 0}
data: {source: {sklearn: {name: iris}}, folds: 1}
training: {epochs: 3, batch_size: 16, early_stopping: false}
preprocessors: [standardize]
model: {mlp: {layers: 1, units: {low: 8, high: 32}}}
"""


def test_tune_export_load_predict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    assert main(["tune", str(space), "--no-progress"]) == 0
    assert "Study 'backend': 2/2 trials" in capsys.readouterr().out
    assert main(["export", str(space), "--out", str(tmp_path / "best")]) == 0
    card = json.loads((tmp_path / "best" / "model.json").read_text())

    model = automl.load(tmp_path / "best")
    partition = load_partition(*open_space(space))
    x_test, y_test = partition.test.x_test, partition.test.y_test
    labels = model.predict(x_test)
    expected = np.asarray(model.class_labels)[y_test]
    assert card["test_score"] == pytest.approx(accuracy_score(expected, labels), abs=1e-12)
    proba = model.predict_proba(x_test)
    reloaded = keras.saving.load_model(tmp_path / "best" / "model.keras")
    np.testing.assert_allclose(proba, keras.ops.convert_to_numpy(reloaded(x_test)), atol=1e-6)


@pytest.mark.skipif(ON_TENSORFLOW, reason="these features work on the TensorFlow backend")
@pytest.mark.parametrize("fmt", ["onnx", "tflite"])
def test_tensorflow_only_formats_are_refused(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)  # refused before the study is even opened
    code = main(["export", str(space), "--out", str(tmp_path / "best"), "--format", fmt])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: --format {fmt}: the {fmt} export format cannot be used on the {backend()} "
        f"backend: {TENSORFLOW_BACKEND_ONLY[fmt][1]}. Run with KERAS_BACKEND=tensorflow"
    )
    assert not (tmp_path / "best").exists()


@pytest.mark.skipif(ON_TENSORFLOW, reason="these features work on the TensorFlow backend")
def test_text_columns_are_refused_before_any_trial(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "text.yaml"
    space.write_text(
        "study: {name: text, trials: 1}\n"
        f"data: {{source: {{csv: {{path: {CHURN}}}}}}}\n"
        "preprocessors: [impute, one_hot]\nmodel: {mlp: {}}\n"
    )
    assert main(["tune", str(space), "--no-progress"]) == 2
    assert capsys.readouterr().err == (
        f"error: csv:churn.csv: text inputs (text or categorical columns, text files) cannot be "
        f"used on the {backend()} backend: they are string tensors, which only TensorFlow has. "
        f"Run with "
        f"KERAS_BACKEND=tensorflow (TensorFlow is installed with automl). "
        f"Received: backend={backend()}\n"
    )


@pytest.mark.skipif(not ON_TENSORFLOW, reason="the TensorFlow backend does them all")
def test_tensorflow_does_them_all() -> None:
    for feature in TENSORFLOW_BACKEND_ONLY:
        require_tensorflow(feature)  # no error
    assert backend() == "tensorflow"


@pytest.mark.skipif(ON_TENSORFLOW, reason="the TensorFlow backend writes every format")
def test_format_all_skips_the_tensorflow_only_formats() -> None:
    """`--format all` is not refused off TensorFlow: onnx and tflite are skipped, saying why."""
    from automl.export._formats import plan_formats

    chosen, skipped = plan_formats("all", np.zeros((2, 3), dtype="float32"))
    assert chosen == ("keras", "saved_model")
    for fmt in ("onnx", "tflite"):
        assert skipped[fmt] == f"the {backend()} backend: {TENSORFLOW_BACKEND_ONLY[fmt][1]}"


def test_the_backend_is_known_before_keras_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`automl validate` checks text without importing Keras: the backend comes from Keras'
    own settings then (KERAS_BACKEND, else keras.json in KERAS_HOME, else TensorFlow)."""
    monkeypatch.setitem(sys.modules, "keras", None)  # as if not imported yet
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert backend() == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert backend() == "tensorflow"
    (tmp_path / "keras.json").write_text('{"backend": "torch"}')
    assert backend() == "torch"
