"""What every check shares: the tiny data, the failure, and a Keras save-and-reload round trip."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from automl.components import Component
from automl.errors import ContractError

INPUT_SHAPES: tuple[tuple[int, ...], ...] = ((6,), (8, 8, 1), (8, 4))
N_SAMPLES = 12
N_CLASSES = 3
#: the vocabulary size of the token ids a family that `takes_tokens` is checked with
N_TOKENS = 20
#: the words of the sentences a text preprocessor is checked with
TEXT_WORDS = ("the", "a", "film", "soup", "was", "not", "good", "bad", "great", "never", "at")


def fail(component: Component, message: str) -> ContractError:
    """`model_family 'x': <message>`: the error a failed check raises."""
    return ContractError(f"{component.kind} {component.name!r}: {message}")


def rng() -> np.random.Generator:
    """A fresh seeded generator: every check sees the same data."""
    return np.random.default_rng(0)


def finite(value: Any) -> bool:
    """True when every number in `value` is finite."""
    return bool(np.all(np.isfinite(np.asarray(value, dtype="float64"))))


def call(model: Any, x: np.ndarray) -> np.ndarray:
    """The model's output in inference mode (eager: cheaper than `predict` for tiny inputs)."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(model(as_inputs(x), training=False)))


def as_inputs(x: np.ndarray) -> Any:
    """`x` as a trial feeds it: text (strings) as a string tensor, other arrays unchanged."""
    from automl.inputs import as_float_inputs

    return as_float_inputs(x) if np.asarray(x).dtype.kind in "OUS" else x


def text_sample(gen: np.random.Generator, rows: int = N_SAMPLES) -> np.ndarray:
    """Short random sentences as a (rows, 1) string matrix: the input of a text preprocessor."""
    words = np.asarray(TEXT_WORDS)
    lengths = gen.integers(2, 8, size=rows)
    return np.asarray([[" ".join(gen.choice(words, size=n))] for n in lengths], dtype=object)


def to_numpy(value: Any) -> np.ndarray:
    """A Keras tensor (any backend) as a NumPy array."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(value))


def roundtrip(component: Component, model: Any, x: np.ndarray, what: str) -> None:
    """Save `model` as `.keras`, reload it in safe mode and compare predictions."""
    import keras

    before = call(model, x)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        try:
            reloaded = keras.saving.load_model(path, safe_mode=True)
        except Exception as exc:
            raise fail(
                component,
                f"a model with its {what} does not reload from a .keras file; register custom "
                "Keras classes with keras.saving.register_keras_serializable(package=...) and "
                f"give them get_config(). Received: {type(exc).__name__}: {exc}",
            ) from exc
    after = call(reloaded, x)
    if before.shape != after.shape or not np.allclose(before, after, atol=1e-5):
        raise fail(
            component, f"a model with its {what} predicts differently after a save and reload"
        )


def task_data(task: str, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets, perfect predictions and random predictions in the shapes the core uses."""
    if task == "multiclass":
        y = np.arange(N_SAMPLES) % N_CLASSES
        perfect = np.full((N_SAMPLES, N_CLASSES), 0.01, "float32")
        perfect[np.arange(N_SAMPLES), y] = 0.98
        logits = gen.normal(size=(N_SAMPLES, N_CLASSES))
        random = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype("float32")
        return y, perfect, random
    if task == "binary":
        y = (np.arange(N_SAMPLES) % 2).astype("float32")
        perfect = np.where(y == 1, 0.98, 0.02).astype("float32")
        random = gen.uniform(0.05, 0.95, size=N_SAMPLES).astype("float32")
        return y, perfect, random
    y = gen.normal(size=N_SAMPLES).astype("float32")
    return y, y.copy(), (y + gen.normal(scale=1.0, size=N_SAMPLES)).astype("float32")
