"""Contract checks for automl components: the same checks the built-in components pass.

Run them over your plugin's components in your own test suite::

    # tests/test_contract.py of your plugin package
    import my_automl_plugin
    from automl.testing import check_component, check_plugin_hooks, parametrize_components

    def test_hooks():
        check_plugin_hooks(my_automl_plugin)        # every @hookimpl names a real hook

    @parametrize_components(my_automl_plugin)
    def test_contract(component):
        check_component(component)

`check_component` checks the declaration (name, help, tasks, parameters and their default ranges)
and then builds the component with its defaults and with the low and high ends of every default
range, on tiny random data: models and layers must give finite outputs of the right shape, losses
and metrics finite numbers that prefer perfect predictions, and every Keras object must survive a
save and reload (custom classes must be registered with
`keras.saving.register_keras_serializable(package=...)`). A failed check raises
`ContractError` (an `AssertionError`, so pytest shows it as a test failure) saying what was
expected and what was received.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from automl.components import KINDS, TASKS, BuildContext, Component, Param
from automl.errors import ContractError

__all__ = [
    "ContractError",
    "check_component",
    "check_declaration",
    "check_plugin_hooks",
    "collect_components",
    "param_sets",
    "parametrize_components",
]

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
PARAM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INPUT_SHAPES: tuple[tuple[int, ...], ...] = ((6,), (8, 8, 1), (8, 4))
N_SAMPLES = 12
N_CLASSES = 3


def _fail(component: Component, message: str) -> ContractError:
    return ContractError(f"{component.kind} {component.name!r}: {message}")


# ------------------------------------------------------------------------------ plugins
def _plugin_object(plugin: object | str) -> object:
    if isinstance(plugin, str):
        from automl.plugins import _import_local

        return _import_local(plugin)[0]
    return plugin


def check_plugin_hooks(plugin: object | str) -> list[str]:
    """Register `plugin` on a fresh plugin manager; raise if a `@hookimpl` matches no hook.

    Args:
        plugin: a module, an object with `@hookimpl` methods, a module name or a `.py` path.

    Returns:
        The names of the hooks it implements.
    """
    from automl.plugins import PluginInfo, _check_hooks, _register, get_plugin_manager

    pm, infos = get_plugin_manager(entry_points=False)
    obj = _plugin_object(plugin)
    if pm.is_registered(obj):
        name = pm.get_name(obj) or "plugin"
    else:
        name = getattr(obj, "__name__", None) or type(obj).__name__
        infos[name] = PluginInfo(name, "local")
        _register(pm, obj, infos[name])
    _check_hooks(pm, infos)
    return sorted(caller.name for caller in pm.get_hookcallers(obj) or [])


def collect_components(plugin: object | str) -> list[Component]:
    """Every component `plugin` registers, by calling its registration hooks directly.

    Args:
        plugin: a module, an object with `@hookimpl` methods, a module name or a `.py` path.
    """
    from automl.hookspecs import REGISTRATION_HOOKS

    obj = _plugin_object(plugin)
    found: list[Component] = []
    for hook_name in REGISTRATION_HOOKS:
        function = getattr(obj, hook_name, None)
        if function is not None and callable(function):
            function(register=found.append)
    return found


def parametrize_components(plugin: object | str, argname: str = "component") -> Any:
    """A `pytest.mark.parametrize` over the components of `plugin`, with `kind:name` ids."""
    import pytest

    components = collect_components(plugin)
    return pytest.mark.parametrize(
        argname, components, ids=[f"{c.kind}:{c.name}" for c in components]
    )


# -------------------------------------------------------------------------- declaration
def check_declaration(component: Component) -> None:
    """Check the static part: kind, name, help, tasks, parameters and their default ranges."""
    base = KINDS.get(component.kind)
    if base is None or not isinstance(component, base):
        raise _fail(
            component,
            f"expected an instance of one of {', '.join(c.__name__ for c in KINDS.values())}. "
            f"Received: {type(component).__mro__[1:]}",
        )
    if not isinstance(component.name, str) or not NAME_RE.match(component.name):
        raise _fail(
            component,
            "expected a name of letters, digits, `_` or `-` (it is a YAML key and part of "
            f"Optuna parameter names). Received: name={component.name!r}",
        )
    if not isinstance(component.help, str) or not component.help.strip() or "\n" in component.help:
        raise _fail(component, f"expected a one-line `help`. Received: help={component.help!r}")
    tasks = tuple(component.tasks)
    if not tasks or any(t not in TASKS for t in tasks):
        raise _fail(
            component, f"expected `tasks` to be a non-empty subset of {TASKS}. Received: {tasks}"
        )
    if component.kind == "metric" and getattr(component, "direction", None) not in (
        "maximize",
        "minimize",
    ):
        raise _fail(
            component,
            "expected direction 'maximize' or 'minimize'. "
            f"Received: {getattr(component, 'direction', None)!r}",
        )
    names = [p.name for p in component.params]
    if len(set(names)) != len(names):
        raise _fail(component, f"expected unique parameter names. Received: {names}")
    for p in component.params:
        _check_param(component, p)


def _check_param(component: Component, p: Param) -> None:
    where = f"parameter {p.name!r}"
    if not isinstance(p, Param):
        raise _fail(component, f"expected `params` to hold Param objects. Received: {p!r}")
    if not PARAM_RE.match(p.name):
        raise _fail(
            component,
            f"expected a parameter name that is a Python identifier. Received: {p.name!r}",
        )
    if p.type not in ("int", "float", "categorical", "bool", "str"):
        raise _fail(component, f"{where}: unknown type. Received: type={p.type!r}")
    if not p.help:
        raise _fail(component, f"{where}: expected a one-line `help`. Received: help={p.help!r}")
    problem = p.check_value(p.default)
    if problem:
        raise _fail(component, f"{where}: the default value is invalid: {problem}")
    if p.type == "categorical" and p.choices is not None and p.default not in p.choices:
        raise _fail(
            component,
            f"{where}: expected the default among the choices {list(p.choices)}. "
            f"Received: default={p.default!r}",
        )
    if p.type in ("int", "float") and (p.low is None) != (p.high is None):
        raise _fail(
            component,
            f"{where}: expected both `low` and `high` or neither. "
            f"Received: low={p.low}, high={p.high}",
        )
    if p.low is not None and p.high is not None:
        if not p.low <= p.high:
            raise _fail(
                component, f"{where}: `low <= high` must hold, but got (low={p.low}, high={p.high})"
            )
        if p.log and p.low <= 0:
            raise _fail(component, f"{where}: a log range needs `low > 0`. Received: low={p.low}")
        if p.step is not None and p.step <= 0:
            raise _fail(component, f"{where}: expected `step > 0`. Received: step={p.step}")
        for end in (p.low, p.high):
            problem = p.check_value(int(end) if p.type == "int" else end)
            if problem:
                raise _fail(component, f"{where}: the default range leaves the bounds: {problem}")


def param_sets(component: Component) -> list[dict[str, Any]]:
    """The defaults, then the low and high ends of every default range (duplicates dropped)."""
    sets = [component.defaults()]
    for end in (0, -1):
        values = component.defaults()
        for p in component.params:
            if p.type == "categorical" and p.choices:
                values[p.name] = p.choices[end]
            elif p.low is not None and p.high is not None:
                value = (p.low, p.high)[end]
                values[p.name] = int(value) if p.type == "int" else float(value)
        if values not in sets:
            sets.append(values)
    return sets


# ------------------------------------------------------------------------------- checks
def check_component(
    component: Component,
    *,
    input_shape: tuple[int, ...] | None = None,
    x: np.ndarray | None = None,
    data_params: dict[str, Any] | None = None,
) -> None:
    """Check `component` against the contract of its kind (see the module docstring).

    Args:
        component: an instance of a `Base*` component class.
        input_shape: the input shape (no batch axis) to build a model family for. Defaults to
            `None`: the first of (6,), (8, 8, 1), (8, 4) that `check_input` accepts.
        x: sample inputs for a preprocessor (at least 8 rows). Defaults to `None`: random floats.
        data_params: parameters to `load` a data source with. Defaults to `None`: only its
            declaration and `task()` are checked (loading may need files or a network).
    """
    check_declaration(component)
    checks: dict[str, Callable[..., None]] = {
        "model_family": lambda c, p: _check_model_family(c, p, input_shape),
        "preprocessor": lambda c, p: _check_preprocessor(c, p, x),
        "activation": _check_activation,
        "loss": _check_loss,
        "regularizer": _check_regularizer,
        "optimizer": _check_optimizer,
        "metric": _check_metric,
    }
    if component.kind == "data_source":
        _check_data_source(component, data_params)
        return
    for i, params in enumerate(param_sets(component)):
        try:
            checks[component.kind](component, params)
        except ContractError:
            raise
        except Exception as exc:
            label = "default parameters" if i == 0 else f"parameters {params}"
            raise _fail(component, f"raised {type(exc).__name__} with {label}: {exc}") from exc


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _finite(value: Any) -> bool:
    return bool(np.all(np.isfinite(np.asarray(value, dtype="float64"))))


def _roundtrip(component: Component, model: Any, x: np.ndarray, what: str) -> None:
    """Save `model` as `.keras`, reload it in safe mode and compare predictions."""
    import keras

    before = _call(model, x)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        try:
            reloaded = keras.saving.load_model(path, safe_mode=True)
        except Exception as exc:
            raise _fail(
                component,
                f"a model with its {what} does not reload from a .keras file; register custom "
                "Keras classes with keras.saving.register_keras_serializable(package=...) and "
                f"give them get_config(). Received: {type(exc).__name__}: {exc}",
            ) from exc
    after = _call(reloaded, x)
    if before.shape != after.shape or not np.allclose(before, after, atol=1e-5):
        raise _fail(
            component, f"a model with its {what} predicts differently after a save and reload"
        )


def _call(model: Any, x: np.ndarray) -> np.ndarray:
    """The model's output in inference mode (eager: cheaper than `predict` for tiny inputs)."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))


def _context(task: str, n_outputs: int, shape: tuple[int, ...]) -> BuildContext:
    import keras

    return BuildContext(
        task=task,
        n_outputs=n_outputs,
        input_shape=shape,
        make_activation=lambda: keras.layers.Activation("relu"),
        make_kernel_regularizer=lambda: None,
        make_regularizer_layers=list,
    )


def _check_model_family(
    component: Any, params: dict[str, Any], input_shape: tuple[int, ...] | None
) -> None:
    import keras

    shapes = [input_shape] if input_shape else list(INPUT_SHAPES)
    accepted = [s for s in shapes if component.check_input(s) is None]
    if not accepted:
        raise _fail(
            component,
            f"check_input accepts none of the input shapes {shapes}; "
            "pass input_shape=... to check_component",
        )
    shape = tuple(accepted[0])
    task = component.tasks[0]
    n_out = N_CLASSES if task == "multiclass" else 1
    keras.utils.clear_session()
    inputs = keras.Input(shape=shape)
    features = component.build(inputs, _context(task, n_out, shape), **params)
    if not hasattr(features, "shape") or len(features.shape) < 2:
        raise _fail(
            component, f"expected build to return a batched Keras tensor. Received: {features!r}"
        )
    outputs = keras.layers.Dense(n_out)(features)
    model = keras.Model(inputs, outputs)
    x = _rng().normal(size=(N_SAMPLES, *shape)).astype("float32")
    y_pred = _call(model, x)
    if y_pred.shape[0] != N_SAMPLES or not _finite(y_pred):
        raise _fail(
            component, f"expected {N_SAMPLES} finite outputs. Received: shape {y_pred.shape}"
        )
    if params == component.defaults():
        model.compile(optimizer="adam", loss="mse", run_eagerly=True)
        history = model.fit(x, np.zeros((N_SAMPLES, n_out), "float32"), epochs=1, verbose=0)
        if not _finite(history.history["loss"]):
            raise _fail(component, "the training loss is not finite after one epoch")
        _roundtrip(component, model, x, "layers")


def _sample_x(component: Any, x: np.ndarray | None) -> np.ndarray:
    """`x`, else the first sample (tabular, then images) the preprocessor builds on."""
    if x is not None:
        return np.asarray(x)
    samples = [
        _rng().normal(loc=3.0, scale=2.0, size=(N_SAMPLES, *shape)).astype("float32")
        for shape in ((5,), (8, 8, 1))
    ]
    for sample in samples:
        try:
            component.build(sample, **component.defaults())
        except Exception:
            continue
        return sample
    return samples[0]  # the check reports the error


def _check_preprocessor(component: Any, params: dict[str, Any], x: np.ndarray | None) -> None:
    import keras

    x_train = _sample_x(component, x)
    keras.utils.clear_session()
    layer = component.build(x_train, **params)
    if layer is None:
        return  # a no-op with these parameters
    if not isinstance(layer, keras.layers.Layer):
        raise _fail(
            component, f"expected build to return a keras Layer or None. Received: {layer!r}"
        )
    out = keras.ops.convert_to_numpy(layer(x_train))
    if out.shape[0] != len(x_train):
        raise _fail(component, f"expected {len(x_train)} rows out. Received: shape {out.shape}")
    if out.dtype.kind in "fc" and not _finite(out):
        raise _fail(component, "expected finite outputs on finite inputs")
    if params == component.defaults():
        inputs = keras.Input(
            shape=x_train.shape[1:],
            dtype=str(x_train.dtype) if x_train.dtype.kind in "fiu" else "string",
        )
        model = keras.Model(inputs, layer(inputs))
        if out.dtype.kind in "fciu":
            _roundtrip(component, model, x_train, "layer")


def _check_activation(component: Any, params: dict[str, Any]) -> None:
    import keras

    layer = component.build(**params)
    if not isinstance(layer, keras.layers.Layer):
        raise _fail(component, f"expected build to return a keras Layer. Received: {layer!r}")
    if layer is component.build(**params):
        raise _fail(component, "expected build to return a new layer on every call (one per block)")
    x = _rng().normal(size=(N_SAMPLES, 5)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x))
    if out.shape != x.shape or not _finite(out):
        raise _fail(
            component, f"expected finite outputs of shape {x.shape}. Received: shape {out.shape}"
        )
    if params == component.defaults():
        inputs = keras.Input(shape=(5,))
        _roundtrip(component, keras.Model(inputs, component.build(**params)(inputs)), x, "layer")


def _task_data(task: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets, perfect predictions and random predictions in the shapes the core uses."""
    if task == "multiclass":
        y = np.arange(N_SAMPLES) % N_CLASSES
        perfect = np.full((N_SAMPLES, N_CLASSES), 0.01, "float32")
        perfect[np.arange(N_SAMPLES), y] = 0.98
        logits = rng.normal(size=(N_SAMPLES, N_CLASSES))
        random = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype("float32")
        return y, perfect, random
    if task == "binary":
        y = (np.arange(N_SAMPLES) % 2).astype("float32")
        perfect = np.where(y == 1, 0.98, 0.02).astype("float32")
        random = rng.uniform(0.05, 0.95, size=N_SAMPLES).astype("float32")
        return y, perfect, random
    y = rng.normal(size=N_SAMPLES).astype("float32")
    return y, y.copy(), (y + rng.normal(scale=1.0, size=N_SAMPLES)).astype("float32")


def _check_loss(component: Any, params: dict[str, Any]) -> None:
    import keras

    rng = _rng()
    for task in component.tasks:
        y, perfect, random = _task_data(task, rng)
        n_classes = N_CLASSES if task == "multiclass" else (2 if task == "binary" else 0)
        loss = component.build(task, n_classes, **params)
        fn = keras.losses.get(loss) if isinstance(loss, str) else loss
        if not callable(fn):
            raise _fail(
                component,
                f"expected a Keras loss or its name for task {task!r}. Received: {loss!r}",
            )
        y_true = y if task == "multiclass" else y.reshape(-1, 1)
        shaped = (lambda p: p) if task == "multiclass" else (lambda p: p.reshape(-1, 1))
        good = float(keras.ops.convert_to_numpy(keras.ops.mean(fn(y_true, shaped(perfect)))))
        bad = float(keras.ops.convert_to_numpy(keras.ops.mean(fn(y_true, shaped(random)))))
        if not (math.isfinite(good) and math.isfinite(bad)):
            raise _fail(
                component, f"expected finite loss values for task {task!r}. Received: {good}, {bad}"
            )
        if good > bad + 1e-6:
            raise _fail(
                component,
                f"expected a lower loss for near-perfect than for random predictions ({task}). "
                f"Received: perfect={good:.4g}, random={bad:.4g}",
            )
        if not isinstance(loss, str):
            config = keras.saving.serialize_keras_object(loss)
            try:
                again = keras.saving.deserialize_keras_object(config, safe_mode=True)
            except Exception as exc:
                raise _fail(
                    component,
                    "the loss does not deserialize (it is saved in model.keras); register it with "
                    "keras.saving.register_keras_serializable(package=...). "
                    f"Received: {type(exc).__name__}: {exc}",
                ) from exc
            value = float(keras.ops.convert_to_numpy(keras.ops.mean(again(y_true, shaped(random)))))
            if not math.isclose(value, bad, rel_tol=1e-4, abs_tol=1e-6):
                raise _fail(component, f"the reloaded loss gives {value:.6g} instead of {bad:.6g}")


def _check_regularizer(component: Any, params: dict[str, Any]) -> None:
    import keras

    penalty = component.kernel_regularizer(**params)
    if penalty is not None:
        fn = keras.regularizers.get(penalty)
        weights = keras.ops.convert_to_tensor(_rng().normal(size=(5, 4)).astype("float32"))
        value = float(keras.ops.convert_to_numpy(fn(weights)))
        if not math.isfinite(value) or value < 0:
            raise _fail(component, f"expected a finite, non-negative penalty. Received: {value}")
        if not isinstance(penalty, str):
            config = keras.saving.serialize_keras_object(fn)
            keras.saving.deserialize_keras_object(config, safe_mode=True)
    layers = component.layers(**params)
    again = component.layers(**params)
    if not isinstance(layers, list) or any(not isinstance(la, keras.layers.Layer) for la in layers):
        raise _fail(
            component, f"expected layers() to return a list of keras Layers. Received: {layers!r}"
        )
    if any(a is b for a, b in zip(layers, again, strict=False)):
        raise _fail(
            component, "expected layers() to return new layers on every call (one set per block)"
        )
    x = _rng().normal(size=(N_SAMPLES, 4)).astype("float32")
    out: Any = x
    for layer in layers:
        out = layer(out, training=False)
    out = keras.ops.convert_to_numpy(out)
    if out.shape != x.shape or not _finite(out):
        raise _fail(
            component, f"expected its layers to keep the shape {x.shape}. Received: {out.shape}"
        )


def _check_optimizer(component: Any, params: dict[str, Any]) -> None:
    import keras

    optimizer = component.build(**params)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise _fail(component, f"expected a keras Optimizer. Received: {optimizer!r}")
    if optimizer is component.build(**params):
        raise _fail(
            component, "expected build to return a new optimizer on every call (one per trial)"
        )
    callbacks = getattr(component, "callbacks", None)
    extra = list(callbacks(**params)) if callable(callbacks) else []
    if any(not isinstance(cb, keras.callbacks.Callback) for cb in extra):
        raise _fail(
            component, f"expected callbacks() to return keras Callbacks. Received: {extra!r}"
        )
    variable = keras.Variable(np.ones(3, "float32"))
    for _ in range(2):
        optimizer.apply(
            [keras.ops.convert_to_tensor(np.array([0.5, -1.0, 2.0], "float32"))], [variable]
        )
    value = keras.ops.convert_to_numpy(variable)
    if not _finite(value) or np.allclose(value, 1.0):
        raise _fail(component, f"expected two steps to move a variable. Received: {value}")
    if params != component.defaults():
        return
    keras.utils.clear_session()
    rng = _rng()
    x = rng.normal(size=(N_SAMPLES, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5], "float32")).reshape(-1, 1)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer=component.build(**params), loss="mse", run_eagerly=True)
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=extra)
    if not _finite(history.history["loss"]):
        raise _fail(
            component,
            f"expected finite losses when training with it. Received: {history.history['loss']}",
        )


def _check_metric(component: Any, params: dict[str, Any]) -> None:
    rng = _rng()
    for task in component.tasks:
        y, perfect, random = _task_data(task, rng)
        if task == "binary":
            perfect = np.stack([1 - perfect, perfect], axis=1)
            random = np.stack([1 - random, random], axis=1)
            y = y.astype("int64")
        good, bad = component.score(y, perfect), component.score(y, random)
        for value in (good, bad):
            if not isinstance(value, float | int | np.floating) or not math.isfinite(float(value)):
                raise _fail(
                    component,
                    f"expected a finite float score for task {task!r}. Received: {value!r}",
                )
        better = good >= bad if component.direction == "maximize" else good <= bad
        if not better:
            raise _fail(
                component,
                f"expected perfect predictions to score at least as well as random ones "
                f"({task}, {component.direction}). Received: perfect={good:.4g}, random={bad:.4g}",
            )


def _check_data_source(component: Any, data_params: dict[str, Any] | None) -> None:
    from automl.data import Dataset

    if data_params is None:
        return
    params = {**component.defaults(), **data_params}
    try:
        task = component.task(**params)
        dataset = component.load(**params)
    except Exception as exc:
        raise _fail(component, f"raised {type(exc).__name__} with {params}: {exc}") from exc
    if task is not None and task not in TASKS:
        raise _fail(
            component, f"expected task() to return None or one of {TASKS}. Received: {task!r}"
        )
    if not isinstance(dataset, Dataset):
        raise _fail(
            component, f"expected load() to return an automl.data.Dataset. Received: {dataset!r}"
        )
    n_x, n_y = len(dataset.x), len(dataset.y)
    if n_x == 0 or n_x != n_y:
        raise _fail(
            component, f"expected as many rows in x as in y, and some. Received: {n_x} and {n_y}"
        )
    if task is not None and dataset.task not in (None, task):
        raise _fail(component, f"task() said {task!r} but load() gave {dataset.task!r}")
