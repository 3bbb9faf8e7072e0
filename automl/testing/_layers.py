"""Checks of components that build layers: model families, preprocessors and activations."""

from __future__ import annotations

from typing import Any

import numpy as np

from automl.components import BuildContext
from automl.testing._common import (
    INPUT_SHAPES,
    N_CLASSES,
    N_SAMPLES,
    N_TOKENS,
    as_inputs,
    call,
    fail,
    finite,
    rng,
    roundtrip,
    text_sample,
    to_numpy,
)


def _context(
    task: str, n_outputs: int, shape: tuple[int, ...], vocabulary_size: int | None = None
) -> BuildContext:
    import keras

    return BuildContext(
        task=task,
        n_outputs=n_outputs,
        input_shape=shape,
        make_activation=lambda: keras.layers.Activation("relu"),
        make_kernel_regularizer=lambda: None,
        make_regularizer_layers=list,
        vocabulary_size=vocabulary_size,
    )


def _family_inputs(component: Any, shape: tuple[int, ...]) -> tuple[str, np.ndarray, int | None]:
    """The input dtype, sample and vocabulary size: token ids (padded with 0 at the end of every
    other row) for a family that `takes_tokens`, random floats otherwise."""
    if not getattr(component, "takes_tokens", False):
        return "float32", rng().normal(size=(N_SAMPLES, *shape)).astype("float32"), None
    x = rng().integers(1, N_TOKENS, size=(N_SAMPLES, *shape))
    x[::2, shape[0] // 2 :] = 0
    return "int64", x, N_TOKENS


def _accepted_shape(component: Any, input_shape: tuple[int, ...] | None) -> tuple[int, ...]:
    """`input_shape`, else the first of `INPUT_SHAPES` the family's `check_input` accepts."""
    shapes = [input_shape] if input_shape else list(INPUT_SHAPES)
    accepted = [s for s in shapes if component.check_input(s) is None]
    if not accepted:
        raise fail(
            component,
            f"check_input accepts none of the input shapes {shapes}; "
            "pass input_shape=... to check_component",
        )
    return tuple(accepted[0])


def check_model_family(
    component: Any, params: dict[str, Any], input_shape: tuple[int, ...] | None
) -> None:
    """Finite batched outputs; with the defaults also one epoch of training and a reload."""
    import keras

    shape = _accepted_shape(component, input_shape)
    task = component.tasks[0]
    n_out = N_CLASSES if task == "multiclass" else 1
    keras.utils.clear_session()
    dtype, x, vocabulary_size = _family_inputs(component, shape)
    inputs = keras.Input(shape=shape, dtype=dtype)
    features = component.build(inputs, _context(task, n_out, shape, vocabulary_size), **params)
    if not hasattr(features, "shape") or len(features.shape) < 2:
        raise fail(
            component, f"expected build to return a batched Keras tensor. Received: {features!r}"
        )
    model = keras.Model(inputs, keras.layers.Dense(n_out)(features))
    y_pred = call(model, x)
    if y_pred.shape[0] != N_SAMPLES or not finite(y_pred):
        raise fail(
            component, f"expected {N_SAMPLES} finite outputs. Received: shape {y_pred.shape}"
        )
    if params == component.defaults():
        model.compile(optimizer="adam", loss="mse", run_eagerly=True)
        history = model.fit(x, np.zeros((N_SAMPLES, n_out), "float32"), epochs=1, verbose=0)
        if not finite(history.history["loss"]):
            raise fail(component, "the training loss is not finite after one epoch")
        roundtrip(component, model, x, "layers")


def _sample_x(component: Any, x: np.ndarray | None) -> np.ndarray:
    """`x`, else the first sample (tabular, then images) the preprocessor builds on."""
    if x is not None:
        return np.asarray(x)
    if getattr(component, "accepts_text", False):
        return text_sample(rng())
    samples = [
        rng().normal(loc=3.0, scale=2.0, size=(N_SAMPLES, *shape)).astype("float32")
        for shape in ((5,), (8, 8, 1))
    ]
    for sample in samples:
        try:
            component.build(sample, **component.defaults())
        except Exception:
            continue
        return sample
    return samples[0]  # the check reports the error


def check_preprocessor(component: Any, params: dict[str, Any], x: np.ndarray | None) -> None:
    """A layer (or None) keeping the rows, finite on finite inputs, reloadable with defaults."""
    import keras

    x_train = _sample_x(component, x)
    keras.utils.clear_session()
    layer = component.build(as_inputs(x_train), **params)
    if layer is None:
        return  # a no-op with these parameters
    if not isinstance(layer, keras.layers.Layer):
        raise fail(
            component, f"expected build to return a keras Layer or None. Received: {layer!r}"
        )
    out = to_numpy(layer(as_inputs(x_train)))
    if out.shape[0] != len(x_train):
        raise fail(component, f"expected {len(x_train)} rows out. Received: shape {out.shape}")
    if out.dtype.kind in "fc" and not finite(out):
        raise fail(component, "expected finite outputs on finite inputs")
    if params == component.defaults():
        dtype = str(x_train.dtype) if x_train.dtype.kind in "fiu" else "string"
        inputs = keras.Input(shape=x_train.shape[1:], dtype=dtype)
        model = keras.Model(inputs, layer(inputs))
        if out.dtype.kind in "fciu":
            roundtrip(component, model, x_train, "layer")


def check_activation(component: Any, params: dict[str, Any]) -> None:
    """A new layer per call, finite outputs of the input's shape, reloadable with defaults."""
    import keras

    layer = component.build(**params)
    if not isinstance(layer, keras.layers.Layer):
        raise fail(component, f"expected build to return a keras Layer. Received: {layer!r}")
    if layer is component.build(**params):
        raise fail(component, "expected build to return a new layer on every call (one per block)")
    x = rng().normal(size=(N_SAMPLES, 5)).astype("float32")
    out = to_numpy(layer(x))
    if out.shape != x.shape or not finite(out):
        raise fail(
            component, f"expected finite outputs of shape {x.shape}. Received: shape {out.shape}"
        )
    if params == component.defaults():
        inputs = keras.Input(shape=(5,))
        roundtrip(component, keras.Model(inputs, component.build(**params)(inputs)), x, "layer")
