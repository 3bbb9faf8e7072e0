"""Checks of components that shape training: regularizers and optimizers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from automl.testing._common import N_SAMPLES, fail, finite, rng, to_numpy


def check_regularizer(component: Any, params: dict[str, Any]) -> None:
    """A finite non-negative penalty that reloads; new shape-keeping layers on every call."""
    import keras

    penalty = component.kernel_regularizer(**params)
    if penalty is not None:
        fn = keras.regularizers.get(penalty)
        weights = keras.ops.convert_to_tensor(rng().normal(size=(5, 4)).astype("float32"))
        value = float(to_numpy(fn(weights)))
        if not math.isfinite(value) or value < 0:
            raise fail(component, f"expected a finite, non-negative penalty. Received: {value}")
        if not isinstance(penalty, str):
            config = keras.saving.serialize_keras_object(fn)
            keras.saving.deserialize_keras_object(config, safe_mode=True)
    layers = component.layers(**params)
    again = component.layers(**params)
    if not isinstance(layers, list) or any(not isinstance(la, keras.layers.Layer) for la in layers):
        raise fail(
            component, f"expected layers() to return a list of keras Layers. Received: {layers!r}"
        )
    if any(a is b for a, b in zip(layers, again, strict=False)):
        raise fail(
            component, "expected layers() to return new layers on every call (one set per block)"
        )
    x = rng().normal(size=(N_SAMPLES, 4)).astype("float32")
    out: Any = x
    for layer in layers:
        out = layer(out, training=False)
    out = to_numpy(out)
    if out.shape != x.shape or not finite(out):
        raise fail(
            component, f"expected its layers to keep the shape {x.shape}. Received: {out.shape}"
        )


def check_optimizer(component: Any, params: dict[str, Any]) -> None:
    """A new optimizer per call that moves a variable; with defaults it trains a tiny model."""
    import keras

    optimizer = component.build(**params)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise fail(component, f"expected a keras Optimizer. Received: {optimizer!r}")
    if optimizer is component.build(**params):
        raise fail(
            component, "expected build to return a new optimizer on every call (one per trial)"
        )
    callbacks = getattr(component, "callbacks", None)
    extra = list(callbacks(**params)) if callable(callbacks) else []
    if any(not isinstance(cb, keras.callbacks.Callback) for cb in extra):
        raise fail(
            component, f"expected callbacks() to return keras Callbacks. Received: {extra!r}"
        )
    variable = keras.Variable(np.ones(3, "float32"))
    for _ in range(2):
        optimizer.apply(
            [keras.ops.convert_to_tensor(np.array([0.5, -1.0, 2.0], "float32"))], [variable]
        )
    value = to_numpy(variable)
    if not finite(value) or np.allclose(value, 1.0):
        raise fail(component, f"expected two steps to move a variable. Received: {value}")
    if params == component.defaults():
        _check_trains(component, params, extra)


def _check_trains(component: Any, params: dict[str, Any], callbacks: list[Any]) -> None:
    """Two epochs of a linear model with the optimizer (and its callbacks) give finite losses."""
    import keras

    keras.utils.clear_session()
    x = rng().normal(size=(N_SAMPLES, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5], "float32")).reshape(-1, 1)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer=component.build(**params), loss="mse", run_eagerly=True)
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=callbacks)
    if not finite(history.history["loss"]):
        raise fail(
            component,
            f"expected finite losses when training with it. Received: {history.history['loss']}",
        )
