"""Which Keras backend runs, and the features that need TensorFlow as the backend.

The core uses `keras` / `keras.ops` only, so tuning, `.keras` export, `automl.load` and
prediction work on TensorFlow, JAX and PyTorch. A few features are TensorFlow's own; on another
backend they are refused up front by `require_tensorflow` (a `BackendError`, exit status 2),
naming the feature and the backend that does it, instead of failing later (or in every trial)
with an error from deep inside a converter. It is the one check for all of them: the onnx and
tflite export formats, and text inputs (CSV text or categorical columns, `text_folder`, raw
strings given to `automl predict` or `tune(x=...)`).

Keras is not imported here: the data set's text is checked when it loads (`automl.data.
load_partition`), which `automl validate` does without a deep-learning framework; until Keras is
imported, the backend is read from Keras' own settings.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from automl.errors import BackendError

#: feature -> (what it is, why it needs the TensorFlow backend). TensorFlow itself is installed
#: with automl on every backend: the SavedModel export works on JAX too (Keras converts with
#: jax2tf), and the image_folder source decodes with it.
TENSORFLOW_BACKEND_ONLY = {
    "onnx": ("the onnx export format", "it converts a TensorFlow graph with tf2onnx"),
    "tflite": ("the tflite export format", "Keras' LiteRT exporter needs TensorFlow ops"),
    "text inputs": (
        "text inputs (text or categorical columns, text files)",
        "they are string tensors, which only TensorFlow has",
    ),
}


def backend() -> str:
    """The Keras backend: "tensorflow", "jax", "torch" or "numpy".

    Keras' answer once it is imported; before that, what Keras will choose (`KERAS_BACKEND`, else
    `keras.json` in `KERAS_HOME` or `~/.keras`, else TensorFlow), without importing it.
    """
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return str(keras.backend.backend())
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    try:
        return str(json.loads((home / "keras.json").read_text()).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


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
