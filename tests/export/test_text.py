"""Text models: raw strings in, the same predictions after export and reload in every format that
takes strings (.keras, SavedModel); ONNX and TFLite are refused; `automl predict` reads raw text.

One small study on the shipped sentiment reviews (400 rows, one trial) is tuned once per module.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import automl
from automl.cli import main
from automl.errors import ExportError
from automl.export import export_model
from automl.study import tune

pytestmark = pytest.mark.slow

SENTIMENT = Path(__file__).resolve().parents[2] / "search_spaces" / "data" / "sentiment.csv"
SPACE = f"""
study: {{name: text-export, trials: 1, sampler: {{random: {{}}}}, pruner: none, seed: 0}}
data:
  source: {{csv: {{path: {SENTIMENT}, target: sentiment, text: [review]}}}}
  limit: 400
training: {{epochs: 2, batch_size: 32}}
preprocessors: [{{text_vectorization: {{sequence_length: 24, ngrams: 2}}}}]
model: {{embedding_cnn: {{embedding_dim: 16, filters: 16, kernel_size: 3, blocks: 1}}}}
activation: relu
optimizer: {{adam: {{learning_rate: 0.01}}}}
"""
REVIEWS = [
    "The soup was great.",
    "The soup was not great at all.",
    "Oh great, the battery died again.",
    "",  # an empty review is text too
    "Zebra quokka!",  # every word out of the vocabulary
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tuned study's trial exported as .keras and SavedModel (its runs/ beside the space)."""
    root = tmp_path_factory.mktemp("text")
    space = root / "space.yaml"
    space.write_text(textwrap.dedent(SPACE).lstrip())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(root / "runs"))
        tune(str(space), progress=False)
        return export_model(str(space), root / "best", formats="saved_model")


def test_raw_strings_give_the_same_predictions_after_export_and_reload(exported: Path) -> None:
    import tensorflow as tf

    raw = np.asarray([[r] for r in REVIEWS], dtype=object)
    model = automl.load(exported)
    proba = model.predict_proba(raw)
    assert proba.shape == (5, 2) and model.class_labels == ["negative", "positive"]
    served = tf.saved_model.load(str(exported / "saved_model"))
    got = served.serve(tf.constant(raw.astype(str))).numpy()
    np.testing.assert_allclose(got[:, 0], proba[:, 1], atol=1e-6)
    # plain Keras in a fresh process, after the one import the README names
    script = (
        "import sys, numpy as np, keras, tensorflow as tf\n"
        "import automl_plugins.text_layers\n"
        f"m = keras.saving.load_model({str(exported / 'model.keras')!r}, safe_mode=True)\n"
        f"x = tf.constant([[r] for r in {REVIEWS!r}])\n"
        "print(' '.join(f'{p:.7f}' for p in np.asarray(m(x)).ravel()))\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    fresh = [float(v) for v in done.stdout.split()]
    np.testing.assert_allclose(fresh, proba[:, 1], atol=1e-6)
    card = model.card
    assert card["input_schema"]["kind"] == "text" and card["input_dtype"] == "string"
    assert set(card["formats"]) == {"keras", "saved_model"}
    assert all(f["max_abs_diff"] <= 1e-6 for f in card["formats"].values())


def test_predict_reads_a_csv_of_raw_text(exported: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "reviews.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sentiment", "review"])  # the target column may stay; any order
        writer.writerows([["?", r] for r in REVIEWS])
    assert main(["predict", str(exported), str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    expected = automl.load(exported).predict(np.asarray([[r] for r in REVIEWS], dtype=object))
    assert lines[0] == "id,label,p_negative,p_positive"
    assert [line.split(",")[1] for line in lines[1:]] == expected.tolist()


def test_onnx_and_tflite_refuse_text_models(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(exported.parent / "runs"))
    space = str(exported.parent / "space.yaml")
    reasons = {
        "onnx": "tf2onnx cannot convert the string ops",
        "tflite": "the string ops need TFLite's Flex delegate, which tf.lite.Interpreter lacks",
    }
    for fmt, reason in reasons.items():
        with pytest.raises(ExportError, match=rf"^{fmt} .*{reason}"):
            export_model(space, exported.parent / fmt, formats=fmt)
        assert not (exported.parent / fmt).exists()
