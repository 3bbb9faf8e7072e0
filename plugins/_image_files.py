"""Image files as rows: the decoder of the `image_folder` data source, eager or streamed.

Both ways decode with the same function (TensorFlow's decoders and bilinear resize, as
`automl predict` does), so a streamed data set gives exactly the pixels a loaded one would.
TensorFlow is a dependency of automl on every backend; on JAX or PyTorch it is kept off the
GPUs, which belong to the backend that trains.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from automl.errors import DataError
from automl.streaming import RowReader


def _tensorflow() -> Any:
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow" and not getattr(_tensorflow, "hidden", False):
        # decode on the CPU, leave GPUs alone (a RuntimeError: TensorFlow already set them up)
        with contextlib.suppress(RuntimeError):
            tf.config.set_visible_devices([], "GPU")
        _tensorflow.hidden = True  # type: ignore[attr-defined]
    return tf


def decode(path: Path | str, height: int, width: int, channels: int) -> np.ndarray:
    """One image file as float32 pixels (0-255) of shape (height, width, channels)."""
    tf = _tensorflow()
    try:
        img = tf.io.decode_image(
            tf.io.read_file(str(path)), channels=channels, expand_animations=False
        )
    except Exception as exc:  # TensorFlow's InvalidArgumentError
        raise DataError(f"{path}: cannot decode the image: {_tf_reason(exc)}") from None
    return tf.image.resize(img, (height, width)).numpy().astype("float32")


def _tf_reason(exc: Exception) -> str:
    """TensorFlow's message without its op and device decoration."""
    text = str(exc).strip()
    match = re.search(r"\}\}\s*(.*?)\s*\[Op:", text, re.DOTALL)
    return match.group(1) if match else text.splitlines()[0] if text else type(exc).__name__


class ImageFiles(RowReader):
    """Rows that are image files, decoded and resized when read.

    Args:
        paths: one file per row.
        height, width, channels: the size each image is decoded and resized to.
    """

    def __init__(self, paths: Sequence[Path], height: int, width: int, channels: int) -> None:
        self.paths = np.asarray([str(p) for p in paths])
        self.size = (height, width, channels)
        self.row_shape = (height, width, channels)
        self.dtype = np.dtype("float32")

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, indices: np.ndarray) -> np.ndarray:
        if len(indices) == 0:
            return np.zeros((0, *self.row_shape), dtype="float32")
        return np.stack([decode(self.paths[i], *self.size) for i in indices])

    def decoded_bytes(self) -> int:
        """Memory the whole data set would take once decoded (float32 pixels)."""
        return len(self.paths) * int(np.prod(self.row_shape)) * 4
