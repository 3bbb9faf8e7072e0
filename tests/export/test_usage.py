"""The card's loading snippets, sizes and latency (`automl.export._usage`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from automl.export._usage import files_markdown, loading_snippets


def _card(task: str, labels: list[str] | None, dtype: str = "float32") -> dict[str, Any]:
    return {
        "task": task,
        "class_labels": labels,
        "input_schema": {"shape": [3], "dtype": dtype, "feature_names": ["age", "city", "plan"]},
        "keras_imports": ["automl_plugins.keras_objects"] if dtype == "string" else [],
        "formats": {"keras": {}, "onnx": {}},
    }


def test_the_keras_snippet_imports_exactly_what_the_model_needs() -> None:
    plain = loading_snippets(_card("multiclass", ["a", "b", "c"]), "runs/x/best")
    assert list(plain) == ["keras", "onnx"]
    assert plain["keras"] == "\n".join(
        [
            "import keras",
            "",
            "# x: float32 array, shape (n, 3)",
            'model = keras.saving.load_model("runs/x/best/model.keras")',
            "y = model.predict(x)",
            "# y: class probabilities, shape (n, 3), columns ['a', 'b', 'c']",
        ]
    )
    text = loading_snippets(_card("binary", ["no", "yes"], "string"), "best")["keras"]
    assert text.splitlines()[:4] == [
        "import automl_plugins.keras_objects  # registers its Keras classes",
        "import keras",
        "import tensorflow as tf",
        "",
    ]
    assert (
        "# x: array of str, shape (n, 3): columns age, city, plan; missing cells as '' or NA"
        in text
    )
    assert "\ny = model.predict(tf.constant(x))\n" in text
    assert text.endswith("\n# y: probability of class 'yes', shape (n, 1)")


def test_a_forecast_snippet_says_it_gives_every_step() -> None:
    card = _card("forecast", None)
    card["input_schema"] = {"shape": [28, 2], "dtype": "float32", "horizon": 3}
    text = loading_snippets(card, "best")["onnx"]
    assert "# x: float32 array, shape (n, 28, 2)" in text
    assert text.endswith("\n# y: the next 3 values of the series, shape (n, 3)")


def test_every_snippet_runs_as_written(exported_all: Path, test_rows: Any) -> None:
    card = json.loads((exported_all / "model.json").read_text())
    assert card["keras_imports"] == []  # min_max + CNN: built-in Keras layers only
    x = test_rows[0][:5]
    expected = _keras_output(exported_all, x)
    assert list(card["loading"]) == ["keras", "saved_model", "onnx", "tflite"]
    for fmt, code in card["loading"].items():
        namespace: dict[str, Any] = {"x": x}
        exec(code, namespace)  # the snippet as the card shows it, absolute path included
        np.testing.assert_allclose(namespace["y"], expected, atol=1e-5, err_msg=fmt)


def _keras_output(directory: Path, x: np.ndarray) -> np.ndarray:
    import keras

    model = keras.saving.load_model(directory / "model.keras")
    return np.asarray(model.predict(x, verbose=0))


def test_files_section_shows_size_check_latency_and_what_was_skipped() -> None:
    card = {
        "formats": {
            "keras": {
                "path": "model.keras",
                "bytes": 30310,
                "max_abs_diff": 0.0,
                "latency": {"batch_rows": 256, "ms_per_row_in_batch": 0.0123, "ms_single_row": 4.2},
            }
        },
        "skipped_formats": {"onnx": "text inputs: tf2onnx cannot convert the string ops"},
    }
    assert files_markdown(card) == [
        "| file | size | max abs difference vs Keras | ms per row (batch) | ms (one row) |",
        "|---|---|---|---|---|",
        "| `model.keras` | 29.6 KB | 0.00e+00 | 0.0123 | 4.200 |",
        "",
        "Latency: wall-clock time of each format's own runtime at export, on the export machine "
        "(median of 5 calls after a warm-up), on a batch of 256 test rows divided by its size, "
        "and on one row.",
        "- `onnx` skipped: text inputs: tf2onnx cannot convert the string ops",
    ]
