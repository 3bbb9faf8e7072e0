"""A plain `keras.saving.load_model` loads an exported model after one documented import.

Two models of one study on a CSV with text columns (the `Impute` and `EncodeColumns` layers), one
trained with focal loss and one with label-smoothed cross-entropy (automl's own Keras losses),
are exported, then loaded in a fresh Python that imports `automl_plugins.keras_objects` and Keras
and nothing else of automl. One hold-out (`folds: 1`): each export is that trial's own compiled
checkpoint, its loss included (a bag of fold models is an uncompiled averaging model).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import automl
from automl.cli import main
from automl.study import tune

SPACE = """
study: {name: portable, metric: accuracy, trials: 2, sampler: grid, pruner: none, seed: 0}
data: {source: {csv: {path: shop.csv, target: segment}}, folds: 1, validation: 0.25, test: 0.25}
training: {epochs: 1, batch_size: 16}
preprocessors: [impute, one_hot]
model: {mlp: {layers: 1, units: 8, dropout: 0.0}}
loss:
  focal: {gamma: 2.0}
  crossentropy: {label_smoothing: 0.1}
optimizer: {adam: {learning_rate: 0.01}}
"""
ROWS = [["age", "city", "plan", "segment"]] + [
    [str(20 + i % 50) if i % 7 else "NA", ["oslo", "lima", "rome"][i % 3], ["basic", "plus"][i % 2],
     "abc"[(i % 3 + i % 2) % 3]]
    for i in range(96)
]  # fmt: skip
LOAD = """
import json, sys
{imports}import keras
import tensorflow as tf  # string inputs: Keras takes text as a TensorFlow string tensor

out = {{}}
for directory in sys.argv[2:]:
    model = keras.saving.load_model(directory + "/model.keras")
    predictions = model.predict(tf.constant(json.loads(sys.argv[1])), verbose=0)
    out[directory] = [type(model.loss).__name__, predictions.tolist()]
automl_modules = sorted(m for m in sys.modules if m.startswith("automl"))
print(json.dumps({{"models": out, "automl_modules": automl_modules}}))
"""


def _load_in_a_fresh_python(imports: str, rows: list[list[str]], *dirs: Path) -> Any:
    code = LOAD.format(imports=imports)
    argv = [sys.executable, "-c", code, json.dumps(rows), *map(str, dirs)]
    return subprocess.run(argv, capture_output=True, text=True)


@pytest.mark.slow
def test_exported_models_load_in_plain_keras_after_one_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "shop.csv").write_text("\n".join(",".join(r) for r in ROWS) + "\n")
    space = tmp_path / "space.yaml"
    space.write_text(textwrap.dedent(SPACE).lstrip())
    result = tune(str(space), progress=False)
    losses = {row["trial"]: row["params"]["loss"] for row in result.leaderboard}
    assert sorted(losses.values()) == ["crossentropy", "focal"]
    dirs = [tmp_path / f"trial{n}" for n in sorted(losses)]
    for n, out in zip(sorted(losses), dirs, strict=True):
        argv = ["export", str(space), "--out", str(out), "--trial", str(n), "--format", "all"]
        assert main(argv) == 0
    printed = capsys.readouterr().out
    skipped = "  onnx: skipped (text inputs: tf2onnx cannot convert the string ops)"
    assert printed.count(skipped) == 2
    for out in dirs:
        card = json.loads((out / "model.json").read_text())
        assert card["keras_imports"] == ["automl_plugins.keras_objects"]
        assert "import automl_plugins.keras_objects" in (out / "MODEL_CARD.md").read_text()

    rows = [["34", "oslo", "plus"], ["", "rome", "basic"], ["51", "lima", "NA"]]
    done = _load_in_a_fresh_python("import automl_plugins.keras_objects\n", rows, *dirs)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    expected_loss = {"focal": "FocalCrossentropy"}
    expected_loss["crossentropy"] = "SparseCategoricalCrossentropyLS"
    for n, out in zip(sorted(losses), dirs, strict=True):
        loss_class, predictions = loaded["models"][str(out)]
        assert loss_class == expected_loss[losses[n]]
        reference = automl.load(out).predict_proba(rows)
        np.testing.assert_allclose(np.asarray(predictions), reference, atol=1e-6)
    # the one import pulls in the plugins' own modules, not the tuner (no optuna, no study)
    assert "automl.study" not in loaded["automl_modules"]

    without = _load_in_a_fresh_python("", rows, dirs[0])
    assert without.returncode != 0
    assert "Could not locate class" in without.stderr
