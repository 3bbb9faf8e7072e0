"""Which Keras backend runs, and the features that need TensorFlow as the backend.

The core uses `keras` / `keras.ops` only, so tuning, `.keras` export, `automl.load` and
prediction work on TensorFlow, JAX and PyTorch. A few features are TensorFlow's own; on another
backend they are refused up front, naming the feature and the backend that does it, instead of
failing later (or in every trial) with an error from deep inside a converter.
"""

from __future__ import annotations

import keras

from automl.errors import BackendError

#: feature -> (what it is, why it needs the TensorFlow backend). TensorFlow itself is installed
#: with automl on every backend: the SavedModel export works on JAX too (Keras converts with
#: jax2tf), and the image_folder source decodes with it.
TENSORFLOW_BACKEND_ONLY = {
    "onnx": ("the onnx export format", "it converts a TensorFlow graph with tf2onnx"),
    "tflite": ("the tflite export format", "Keras' LiteRT exporter needs TensorFlow ops"),
    "text inputs": (
        "text (categorical) input columns",
        "they are string tensors, which only TensorFlow has",
    ),
}


def backend() -> str:
    """The running Keras backend: "tensorflow", "jax", "torch" or "numpy"."""
    return str(keras.backend.backend())


def require_tensorflow(feature: str, where: str = "") -> None:
    """Refuse `feature` (a key of `TENSORFLOW_BACKEND_ONLY`) unless Keras runs on TensorFlow."""
    running = backend()
    if running == "tensorflow":
        return
    what, why = TENSORFLOW_BACKEND_ONLY[feature]
    place = f"{where}: " if where else ""
    raise BackendError(
        f"{place}{what} cannot be used on the {running} backend: {why}. Run with "
        f"KERAS_BACKEND=tensorflow (TensorFlow is installed with automl). "
        f"Received: backend={running}"
    )


__all__ = ["TENSORFLOW_BACKEND_ONLY", "backend", "require_tensorflow"]
