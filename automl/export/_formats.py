"""Export formats: write one file, load it back, check it predicts like the Keras model.

One writer per format. A writer saves the model at the path it is given, loads the file back
with the format's own runtime and returns that runtime's raw predictions on the check rows;
`write_format` compares them with the Keras model's, so a format that disagrees is an error, not
a silent file. TensorFlow-only formats (SavedModel, TFLite) and ONNX import their libraries
lazily.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from automl.errors import AutoMLError, ExportError
from automl.registry import closest
from automl.serving import load_keras_model
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

Writer = Callable[[Any, Path, np.ndarray], np.ndarray]


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
            close = closest(name, [*FORMATS, *FORMAT_ALIASES])
            hint = f" Did you mean {close!r}?" if close else ""
            raise ExportError(
                f"Unknown export format. Expected one of {', '.join(FORMATS)} (or all).{hint} "
                f"Received: format={raw.strip()!r}"
            )
        chosen.add(name)
    return tuple(f for f in FORMATS if f in chosen)


def check_inputs_supported(formats: tuple[str, ...], x: np.ndarray) -> None:
    """Refuse, before writing anything, formats that cannot take this model's text inputs."""
    refused = [f for f in formats if f in NUMERIC_INPUTS_ONLY]
    if refused and x.dtype.kind not in "iufb":
        raise ExportError(
            f"{' and '.join(refused)} need numeric inputs and this model takes text "
            f"(categorical) columns: {'; '.join(NUMERIC_INPUTS_ONLY[f] for f in refused)}. Export "
            f"keras and saved_model instead. Received: formats={list(formats)}"
        )


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
    """Write one format into `directory`, load it back and compare its predictions on `x`.

    Returns the format's entry of `model.json`: its path, the difference found and the check.
    """
    started = time.perf_counter()
    try:
        got = WRITERS[fmt](model, directory / FORMAT_FILES[fmt], x)
    except AutoMLError:
        raise
    except Exception as exc:
        raise ExportError(f"the {fmt} export failed: {type(exc).__name__}: {exc}") from exc
    diff, allowed = _compare(fmt, got, reference, len(x))
    return {
        "path": FORMAT_FILES[fmt],
        "bytes": file_size(directory / FORMAT_FILES[fmt]),
        "max_abs_diff": diff,
        "tolerance": allowed,
        "checked_rows": len(x),
        "seconds": round(time.perf_counter() - started, 3),
    }


def file_size(path: Path) -> int | None:
    """Bytes of a file, or of every file under a directory (SavedModel); None when absent."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else None


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


# --- one writer per format ---------------------------------------------------------------------


def _write_keras(model: keras.Model, path: Path, x: np.ndarray) -> np.ndarray:
    model.save(path)
    return raw_predict(load_keras_model(path), x)


def _write_saved_model(model: keras.Model, path: Path, x: np.ndarray) -> np.ndarray:
    import tensorflow as tf  # TensorFlow-only format: imported lazily

    model.export(str(path), format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(str(path))
    return np.asarray(loaded.serve(tf.constant(_feed(x))))


def _write_onnx(model: keras.Model, path: Path, x: np.ndarray) -> np.ndarray:
    """ONNX via a frozen TF graph, so preprocessing constants become initializers, not inputs.

    Keras' own `model.export(format="onnx")` hands tf2onnx a function whose captured constants
    (e.g. the mean and variance of a `Normalization` layer) end up as extra graph inputs that
    every caller would have to feed. Freezing the concrete function first turns them into
    constants inside the graph. Other backends use Keras' exporter.
    """
    try:
        import onnx
        import onnxruntime as ort
        import tf2onnx  # noqa: F401  (both exporters convert with it: one clear error up front)
    except ImportError as exc:
        raise ExportError(
            f"the onnx format needs the export extra: pip install 'automl-keras[export]' ({exc})"
        ) from exc
    if keras.backend.backend() == "tensorflow":
        onnx.save(_onnx_from_frozen_graph(model, x), str(path))
    else:
        model.export(str(path), format="onnx", verbose=False)
    graph_inputs = [i.name for i in onnx.load(str(path)).graph.input]
    if len(graph_inputs) != 1:
        raise ExportError(
            "the ONNX graph must take the model input only (preprocessing constants belong inside "
            f"the graph). Received: graph inputs={graph_inputs}"
        )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {graph_inputs[0]: x.astype("float32")})[0])


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


def _write_tflite(model: keras.Model, path: Path, x: np.ndarray) -> np.ndarray:
    import tensorflow as tf  # TensorFlow-only format: imported lazily

    model.export(str(path), format="litert", verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's move-to-LiteRT notice
        interpreter = tf.lite.Interpreter(model_path=str(path))
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], _feed(x))
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))


WRITERS: dict[str, Writer] = {
    "keras": _write_keras,
    "saved_model": _write_saved_model,
    "onnx": _write_onnx,
    "tflite": _write_tflite,
}
