"""Export formats: write one file, load it back, check it predicts like the Keras model.

Per format, a saver writes the model at the path it is given and a runtime loads the file back
with the format's own library (Keras, `tf.saved_model`, onnxruntime, `tf.lite.Interpreter`) and
returns its predict function; `write_format` compares that function's raw predictions on the
check rows with the Keras model's, so a format that disagrees is an error, not a silent file,
and times it (latency per row). TensorFlow-only formats (SavedModel, TFLite) and ONNX import
their libraries lazily.
"""

from __future__ import annotations

import importlib.util
import statistics
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from automl.console import filtered_stderr
from automl.errors import AutoMLError, ExportError
from automl.model_files import load_keras_model
from automl.registry import did_you_mean
from automl.trial import as_float_inputs

FORMATS = ("keras", "saved_model", "onnx", "tflite")
FORMAT_ALIASES = {
    "savedmodel": "saved_model",
    "tf_saved_model": "saved_model",
    "litert": "tflite",
    "tf_lite": "tflite",
}
# where each format lives inside the artifact directory
FORMAT_FILES = {
    "keras": "model.keras",
    "saved_model": "saved_model",
    "onnx": "model.onnx",
    "tflite": "model.tflite",
}
# formats that cannot take text (categorical) inputs, and why
NUMERIC_INPUTS_ONLY = {
    "onnx": "tf2onnx cannot convert the string ops",
    "tflite": "the string ops need TFLite's Flex delegate, which tf.lite.Interpreter lacks",
}
# the latency of each format's runtime: the median of this many timed calls after a warm-up, on
# a batch of (up to) LATENCY_ROWS check rows and on a single row
LATENCY_REPEATS, LATENCY_ROWS = 5, 256

Predict = Callable[[np.ndarray], np.ndarray]
Saver = Callable[[Any, Path, np.ndarray], None]
Runtime = Callable[[Path], Predict]


def parse_formats(formats: str | Iterable[str] | None) -> tuple[str, ...]:
    """`"keras,onnx"` (or a list) -> the formats in canonical order; `keras` is always included.

    Args:
        formats: comma-separated names or a sequence of names; `all` selects every format.
            Defaults to `None` (`keras` only).
    """
    if formats is None:
        return ("keras",)
    names = formats.split(",") if isinstance(formats, str) else list(formats)
    chosen = {"keras"}
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if name == "all":
            chosen.update(FORMATS)
            continue
        name = FORMAT_ALIASES.get(name, name)
        if name not in FORMATS:
            hint = did_you_mean(name, [*FORMATS, *FORMAT_ALIASES])
            raise ExportError(
                f"Unknown export format{hint} Expected one of {', '.join(FORMATS)} (or all). "
                f"Received: format={raw.strip()!r}"
            )
        chosen.add(name)
    return tuple(f for f in FORMATS if f in chosen)


def unavailable(formats: tuple[str, ...], x: np.ndarray) -> dict[str, str]:
    """The formats of `formats` this model cannot be exported to here, each with the reason."""
    why: dict[str, str] = {}
    if x.dtype.kind not in "iufb":
        why.update({f: f"text inputs: {NUMERIC_INPUTS_ONLY[f]}" for f in NUMERIC_INPUTS_ONLY})
    if "onnx" not in why and importlib.util.find_spec("tf2onnx") is None:
        why["onnx"] = "needs the export extra: pip install 'automl-keras[export]'"
    return {f: why[f] for f in formats if f in why}


def plan_formats(
    formats: str | Iterable[str] | None, x: np.ndarray
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The formats to write and those skipped with why, before anything is written.

    `all` means every format this model can be exported to: the others are skipped, with the
    reason. A format named explicitly that cannot be written is an error.
    """
    chosen = parse_formats(formats)
    skipped = unavailable(chosen, x)
    names = formats.split(",") if isinstance(formats, str) else list(formats or [])
    named = {FORMAT_ALIASES.get(n.strip().lower(), n.strip().lower()) for n in names}
    refused = [f for f in skipped if f in named or "all" not in named]
    if refused:
        raise ExportError(
            f"{' and '.join(refused)} cannot be exported for this model: "
            f"{'; '.join(f'{f}: {skipped[f]}' for f in refused)}. Export keras and saved_model, "
            f"or use --format all to export what can be. Received: formats={list(chosen)}"
        )
    return tuple(f for f in chosen if f not in skipped), skipped


def raw_predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The Keras model's raw output on `x`: the reference every format is compared with."""
    return np.asarray(model.predict(as_float_inputs(x), batch_size=1024, verbose=0))


def tolerance(reference: np.ndarray) -> float:
    """Allowed max absolute difference: float32 round-off, scaled for regression in target units."""
    scale = float(np.max(np.abs(reference))) if reference.size else 1.0
    return 1e-4 * max(1.0, scale)


def write_format(
    fmt: str, model: keras.Model, directory: Path, x: np.ndarray, reference: np.ndarray
) -> dict[str, Any]:
    """Write one format into `directory`, load it back, compare its predictions on `x`, time it.

    Returns the format's entry of `model.json`: its path and size, the difference found and the
    check, and the latency of the format's runtime.
    """
    started = time.perf_counter()
    path = directory / FORMAT_FILES[fmt]
    try:
        SAVERS[fmt](model, path, x)
        predict = RUNTIMES[fmt](path)
        got = predict(x)
    except AutoMLError:
        raise
    except Exception as exc:
        raise ExportError(f"the {fmt} export failed: {type(exc).__name__}: {exc}") from exc
    diff, allowed = _compare(fmt, got, reference, len(x))
    return {
        "path": FORMAT_FILES[fmt],
        "bytes": size_of(path),
        "max_abs_diff": diff,
        "tolerance": allowed,
        "checked_rows": len(x),
        "seconds": round(time.perf_counter() - started, 3),
        "latency": latency(predict, x),
    }


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file under a directory (SavedModel)."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def latency(predict: Predict, x: np.ndarray) -> dict[str, Any]:
    """Wall-clock milliseconds per row of a format's own runtime, in this process.

    The median of `LATENCY_REPEATS` calls, each after one warm-up call (tracing, allocation), on
    a batch of up to `LATENCY_ROWS` check rows (divided by its size) and on a single row.
    """

    def median_ms(rows: np.ndarray) -> float:
        predict(rows)
        times = []
        for _ in range(LATENCY_REPEATS):
            started = time.perf_counter()
            predict(rows)
            times.append(time.perf_counter() - started)
        return 1000.0 * statistics.median(times)

    batch = x[:LATENCY_ROWS]
    if len(batch) == 0:
        return {}
    return {
        "batch_rows": len(batch),
        "ms_per_row_in_batch": median_ms(batch) / len(batch),
        "ms_single_row": median_ms(batch[:1]),
        "repeats": LATENCY_REPEATS,
    }


def _compare(fmt: str, got: np.ndarray, reference: np.ndarray, rows: int) -> tuple[float, float]:
    """The max absolute difference of `got` from `reference` and the tolerance it passed."""
    got = got.reshape(reference.shape) if got.size == reference.size else got
    if got.shape != reference.shape:
        raise ExportError(
            f"the {fmt} file predicts the wrong shape: expected {reference.shape}. "
            f"Received: shape={got.shape}"
        )
    diff = float(np.max(np.abs(got.astype("float64") - reference))) if reference.size else 0.0
    allowed = tolerance(reference)
    if not diff <= allowed:
        raise ExportError(
            f"the {fmt} file does not reproduce the Keras model: max absolute difference "
            f"{diff:.3g} on {rows} test rows exceeds {allowed:.3g}"
        )
    return diff, allowed


def _feed(x: np.ndarray) -> np.ndarray:
    """float32 for numeric models, str for text (categorical) inputs."""
    return x.astype("float32") if x.dtype.kind in "iufb" else x.astype(str)


# --- per format: a saver and the runtime that loads the file back -----------------------------


def _save_keras(model: keras.Model, path: Path, x: np.ndarray) -> None:
    model.save(path)


def _keras_runtime(path: Path) -> Predict:
    loaded = load_keras_model(path)
    return lambda rows: np.asarray(loaded.predict_on_batch(as_float_inputs(rows)))


def _save_saved_model(model: keras.Model, path: Path, x: np.ndarray) -> None:
    model.export(str(path), format="tf_saved_model", verbose=False)


def _saved_model_runtime(path: Path) -> Predict:
    import tensorflow as tf  # TensorFlow-only format: imported lazily

    loaded = tf.saved_model.load(str(path))
    return lambda rows: np.asarray(loaded.serve(tf.constant(_feed(rows))))


def _save_onnx(model: keras.Model, path: Path, x: np.ndarray) -> None:
    """ONNX via a frozen TF graph, so preprocessing constants become initializers, not inputs.

    Keras' own `model.export(format="onnx")` hands tf2onnx a function whose captured constants
    (e.g. the mean and variance of a `Normalization` layer) end up as extra graph inputs that
    every caller would have to feed. Freezing the concrete function first turns them into
    constants inside the graph. Other backends use Keras' exporter.
    """
    onnx = _onnx_libraries()[0]
    if keras.backend.backend() == "tensorflow":
        onnx.save(_onnx_from_frozen_graph(model, x), str(path))
    else:
        model.export(str(path), format="onnx", verbose=False)


def _onnx_runtime(path: Path) -> Predict:
    onnx, ort = _onnx_libraries()
    graph_inputs = [i.name for i in onnx.load(str(path)).graph.input]
    if len(graph_inputs) != 1:
        raise ExportError(
            "the ONNX graph must take the model input only (preprocessing constants belong inside "
            f"the graph). Received: graph inputs={graph_inputs}"
        )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda rows: np.asarray(session.run(None, {graph_inputs[0]: rows.astype("float32")})[0])


def _onnx_libraries() -> tuple[Any, Any]:
    """onnx and onnxruntime, or an error naming the extra that installs them."""
    try:
        import onnx
        import onnxruntime as ort
        import tf2onnx  # noqa: F401  (both exporters convert with it: one clear error up front)
    except ImportError as exc:
        raise ExportError(
            f"the onnx format needs the export extra: pip install 'automl-keras[export]' ({exc})"
        ) from exc
    return onnx, ort


def _onnx_from_frozen_graph(model: keras.Model, x: np.ndarray) -> Any:
    """The ONNX model proto of `model` (TensorFlow backend), input `inputs`, output `outputs`."""
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec((None, *x.shape[1:]), tf.float32, name="inputs")
    concrete = tf.function(lambda t: model(t, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(concrete)
    tf_logger = tf.get_logger()
    level = tf_logger.level
    tf_logger.setLevel("ERROR")  # tf2onnx's own use of deprecated TF1 helpers
    try:
        model_proto, _ = tf2onnx.convert.from_graph_def(
            frozen.graph.as_graph_def(),
            input_names=[t.name for t in frozen.inputs],
            output_names=[t.name for t in frozen.outputs],
        )
    finally:
        tf_logger.setLevel(level)
    _rename_io(model_proto, "inputs", "outputs")
    return model_proto


def _rename_io(model_proto: Any, input_name: str, output_name: str) -> None:
    """Give the graph's single input and output plain names (tf2onnx keeps `inputs:0`)."""
    graph = model_proto.graph
    renames = {graph.input[0].name: input_name, graph.output[0].name: output_name}
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    graph.input[0].name = input_name
    graph.output[0].name = output_name


def _save_tflite(model: keras.Model, path: Path, x: np.ndarray) -> None:
    model.export(str(path), format="litert", verbose=False)


def _tflite_runtime(path: Path) -> Predict:
    import tensorflow as tf  # TensorFlow-only format: imported lazily

    with warnings.catch_warnings(), filtered_stderr():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's move-to-LiteRT notice
        interpreter = tf.lite.Interpreter(model_path=str(path))
        interpreter.allocate_tensors()  # prints "INFO: Created TensorFlow Lite XNNPACK delegate"
    detail = interpreter.get_input_details()[0]
    output = interpreter.get_output_details()[0]["index"]

    def predict(rows: np.ndarray) -> np.ndarray:
        interpreter.resize_tensor_input(detail["index"], rows.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(detail["index"], _feed(rows))
        interpreter.invoke()
        return np.asarray(interpreter.get_tensor(output))

    return predict


SAVERS: dict[str, Saver] = {
    "keras": _save_keras,
    "saved_model": _save_saved_model,
    "onnx": _save_onnx,
    "tflite": _save_tflite,
}
RUNTIMES: dict[str, Runtime] = {
    "keras": _keras_runtime,
    "saved_model": _saved_model_runtime,
    "onnx": _onnx_runtime,
    "tflite": _tflite_runtime,
}
