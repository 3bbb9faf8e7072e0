"""How to use an artifact without automl: a loading snippet per format, sizes and latency.

The snippets go into `model.json` (`loading`) and `MODEL_CARD.md`. The Keras one imports exactly
the modules that register the custom classes the model uses (`keras_imports`: none for a model
of built-in Keras layers only, `automl_plugins.keras_objects` for focal loss, label smoothing or
the CSV text layers), so a plain `keras.saving.load_model` works after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _input_line(card: dict[str, Any]) -> str:
    schema = card["input_schema"]
    shape = ", ".join(["n", *map(str, schema["shape"])])
    if schema["dtype"] == "string":
        names = schema.get("feature_names") or []
        columns = f": columns {', '.join(names)}" if names else ""
        return f"# x: array of str, shape ({shape}){columns}; missing cells as '' or NA"
    return f"# x: float32 array, shape ({shape})"


def _output_line(card: dict[str, Any]) -> str:
    labels = card.get("class_labels") or []
    if card["task"] == "regression":
        return "# y: predicted values, shape (n, 1)"
    if card["task"] == "forecast":
        horizon = card["input_schema"].get("horizon", "horizon")
        return f"# y: the next {horizon} values of the series, shape (n, {horizon})"
    if card["task"] == "binary":
        positive = repr(labels[1]) if len(labels) > 1 else "1"
        return f"# y: probability of class {positive}, shape (n, 1)"
    return f"# y: class probabilities, shape (n, {len(labels)}), columns {labels}"


def loading_snippets(card: dict[str, Any], directory: str | Path) -> dict[str, str]:
    """Python that loads and runs each written format with its own library, keyed by format."""
    where = str(directory)
    io = [_input_line(card), _output_line(card)]
    imports = [f"import {name}  # registers its Keras classes" for name in card["keras_imports"]]
    text = card["input_schema"]["dtype"] == "string"  # Keras takes text as a TF string tensor
    snippets = {
        "keras": [
            *imports,
            "import keras",
            *(["import tensorflow as tf"] if text else []),
            "",
            f'model = keras.saving.load_model("{where}/model.keras")',
            "y = model.predict(tf.constant(x))" if text else "y = model.predict(x)",
        ],
        "saved_model": [
            "import tensorflow as tf",
            "",
            f'model = tf.saved_model.load("{where}/saved_model")',
            "y = model.serve(tf.constant(x)).numpy()",
        ],
        "onnx": [
            "import onnxruntime as ort",
            "",
            f'session = ort.InferenceSession("{where}/model.onnx")',
            'y = session.run(None, {"inputs": x.astype("float32")})[0]',
        ],
        "tflite": [
            "import tensorflow as tf  # or: from ai_edge_litert.interpreter import Interpreter",
            "",
            f'interpreter = tf.lite.Interpreter(model_path="{where}/model.tflite")',
            'index = interpreter.get_input_details()[0]["index"]',
            "interpreter.resize_tensor_input(index, x.shape)",
            "interpreter.allocate_tensors()",
            'interpreter.set_tensor(index, x.astype("float32"))',
            "interpreter.invoke()",
            'y = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])',
        ],
    }
    written = {fmt: lines for fmt, lines in snippets.items() if fmt in card["formats"]}
    for lines in written.values():  # what x is, before the code; what y is, after it
        lines.insert(lines.index("") + 1, io[0])
        lines.append(io[1])
    return {fmt: "\n".join(lines) for fmt, lines in written.items()}


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"


def files_markdown(card: dict[str, Any]) -> list[str]:
    """The `## Files` section: each format's size, check and latency; what was skipped, why."""
    lines = [
        "| file | size | max abs difference vs Keras | ms per row (batch) | ms (one row) |",
        "|---|---|---|---|---|",
    ]
    batch = 0
    for f in card["formats"].values():
        lat = f.get("latency") or {}
        batch = lat.get("batch_rows", batch)
        per_row = f"{lat['ms_per_row_in_batch']:.4f}" if lat else "-"
        single = f"{lat['ms_single_row']:.3f}" if lat else "-"
        size = _size(f["bytes"]) if "bytes" in f else "-"
        lines.append(f"| `{f['path']}` | {size} | {f['max_abs_diff']:.2e} | {per_row} | {single} |")
    lines += [
        "",
        f"Latency: wall-clock time of each format's own runtime at export, on the export machine "
        f"(median of 5 calls after a warm-up), on a batch of {batch} test rows divided by its "
        "size, and on one row.",
    ]
    for fmt, why in (card.get("skipped_formats") or {}).items():
        lines.append(f"- `{fmt}` skipped: {why}")
    return lines


def loading_markdown(card: dict[str, Any]) -> list[str]:
    """The `## Loading` section: one Python block per written format."""
    lines: list[str] = []
    titles = {"keras": "Keras", "saved_model": "TensorFlow SavedModel"}
    titles.update(onnx="ONNX Runtime", tflite="TFLite (LiteRT)")
    for fmt, code in (card.get("loading") or {}).items():
        lines += [f"{titles.get(fmt, fmt)}:", "", "```python", code, "```", ""]
    return lines
