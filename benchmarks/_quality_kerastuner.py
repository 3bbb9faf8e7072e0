"""KerasTuner RandomSearch on automl's own search space, for `benchmarks/quality.py`.

The hypermodel mirrors what automl builds for the task: the hyperparameters and their ranges are
read from `automl space --json` on the task's YAML (so they are automl's DEFAULT ranges, and a
change of defaults is followed or refused loudly), and the layers are those of the built-in
families in `plugins/models.py` (mlp, cnn, cnn1d, lstm, gru) with automl's task head (softmax,
sigmoid, or a Dense rescaled to the target's mean and standard deviation). Preprocessing is a
Keras `Normalization` layer with the statistics of the part KerasTuner trains on (standardize:
mean / variance per feature; min_max: minimum / span squared), as automl's preprocessors are.
Training: Adam, automl's epochs, batch size and early stopping patience (restoring the best
weights), `validation_split=0.2`, objective = the task metric as a Keras metric
(val_accuracy, val_auc, val_f1 with threshold 0.5, or val_loss (MSE) for RMSE). The model scored
is what a typical user takes: `tuner.get_best_models(1)[0]`.
"""

from __future__ import annotations

import ast
import contextlib
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _quality_tasks import Split, Task, balanced_weights

DEFAULT_PATIENCE = 5  # automl's `training.early_stopping.patience` default
VALIDATION_SPLIT = 0.2
_RANGE = re.compile(
    r"^(?P<kind>int|float) \[(?P<low>[^,]+), (?P<high>[^\]]+)\]"
    r"(?P<log> log)?(?: step (?P<step>\S+))?$"
)
# fixed entries of automl's space the mirror implements, and the values it implements
SUPPORTED_FIXED = {
    "activation": ("relu",),
    "loss": ("crossentropy", "mse"),
    "loss.crossentropy.label_smoothing": (0, 0.0),
    "optimizer": ("adam",),
    "optimizer.adam.schedule": ("constant",),
    "optimizer.adam.clipnorm": (0, 0.0),
    "regularizer": ("none",),
    "preprocessors.0": ("standardize", "min_max"),
}
IGNORED_FIXED = ("optimizer.adam.decay_rate", "optimizer.adam.decay_epochs")
IGNORED_FIXED += ("optimizer.adam.plateau_patience",)  # used only by other schedules


class MirrorError(ValueError):
    """automl's space has something the KerasTuner mirror does not implement."""


@dataclass(frozen=True)
class Dist:
    """A searched hyperparameter of automl's space."""

    kind: str  # int, float or choice
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_entry(name: str, text: str, searched: bool) -> Any:
    """One `automl space --json` row -> a fixed value or a `Dist`."""
    if not searched:
        return _literal(text)
    if text.startswith("one of "):
        choices = _literal(text[len("one of ") :])
        if isinstance(choices, (list, tuple)):
            return Dist("choice", choices=tuple(choices))
    match = _RANGE.match(text)
    if match:
        cast = int if match["kind"] == "int" else float
        return Dist(
            match["kind"],
            low=cast(float(match["low"])),
            high=cast(float(match["high"])),
            log=bool(match["log"]),
            step=float(match["step"]) if match["step"] else None,
        )
    raise MirrorError(
        f"`automl space --json`: cannot read the range of {name}: expected 'int [low, high]', "
        f"'float [low, high]' (with ' log' or ' step S') or 'one of [...]'. Received: {text!r}"
    )


def read_space(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`automl space --json` rows -> {name: fixed value or Dist}, refusing what is not mirrored."""
    space = {row["name"]: parse_entry(row["name"], row["range"], row["searched"]) for row in rows}
    for name, value in space.items():
        mirrored = (
            name
            in ("model", "training.epochs", "training.batch_size", "optimizer.adam.learning_rate")
            or name.startswith("model.")
            or name in IGNORED_FIXED
        )
        if mirrored:
            if name.startswith("training.") and isinstance(value, Dist):
                raise MirrorError(f"the mirror needs a fixed {name}. Received: {value}")
            continue
        if name in SUPPORTED_FIXED and value in SUPPORTED_FIXED[name]:
            continue
        raise MirrorError(
            f"automl's space has {name}={value!r}, which the KerasTuner mirror does not "
            f"implement (it implements {SUPPORTED_FIXED.get(name, 'nothing for this name')}); "
            "extend benchmarks/_quality_kerastuner.py"
        )
    return space


def _hp(hp: Any, name: str, value: Any) -> Any:
    if not isinstance(value, Dist):
        return value
    if value.kind == "choice":
        if all(isinstance(c, bool) for c in value.choices):
            return hp.Boolean(name)
        return hp.Choice(name, list(value.choices))
    sampling = "log" if value.log else "linear"
    if value.kind == "int":
        step = int(value.step) if value.step else None
        return hp.Int(name, int(value.low), int(value.high), step=step, sampling=sampling)
    return hp.Float(name, value.low, value.high, step=value.step, sampling=sampling)


def _statistics(x: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Per last-axis feature: (mean, variance) as automl's standardize / min_max compute them."""
    axes = tuple(range(x.ndim - 1))
    if how == "standardize":
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        return mean, np.where(var > 1e-12, var, 1.0)
    low = x.min(axis=axes)
    span = x.max(axis=axes) - low
    span = np.where(span > 1e-12, span, 1.0)
    return low, span**2


def _family(family: str, x: Any, p: dict[str, Any], shape: tuple[int, ...]) -> Any:
    """The body of automl's built-in `family` (plugins/models.py) with relu activations."""
    import keras

    layers = keras.layers
    if family == "mlp":
        x = layers.Flatten()(x) if len(shape) > 1 else x
        for _ in range(p["layers"]):
            x = layers.Dense(p["units"], activation="relu")(x)
            if p["dropout"] > 0:
                x = layers.Dropout(p["dropout"])(x)
        return x
    if family in ("cnn", "cnn1d"):
        conv = layers.Conv2D if family == "cnn" else layers.Conv1D
        pools = {
            "cnn": (layers.MaxPooling2D, layers.AveragePooling2D),
            "cnn1d": (layers.MaxPooling1D, layers.AveragePooling1D),
        }[family]
        pool = pools[0] if p["pooling"] == "max" else pools[1]
        size = min(shape[:-1])
        for block in range(p["blocks"]):
            x = conv(p["filters"] * 2**block, p["kernel_size"], padding="same")(x)
            x = layers.Activation("relu")(x)
            if size >= 2:
                x = pool(2, padding="same")(x)
                size = (size + 1) // 2
        if family == "cnn":
            x = layers.Flatten()(x)
            x = layers.Dense(p["dense_units"], activation="relu")(x)
        else:
            glob = (
                layers.GlobalMaxPooling1D
                if p["pooling"] == "max"
                else layers.GlobalAveragePooling1D
            )
            x = glob()(x)
        if p["dropout"] > 0:
            x = layers.Dropout(p["dropout"])(x)
        return x
    if family in ("lstm", "gru", "simple_rnn"):
        cell = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}[family]
        for i in range(p["layers"]):
            layer = cell(p["units"], return_sequences=i < p["layers"] - 1)
            x = layers.Bidirectional(layer)(x) if p["bidirectional"] else layer(x)
            if p["dropout"] > 0:
                x = layers.Dropout(p["dropout"])(x)
        return layers.Dense(p["units"], activation="relu")(x)
    raise MirrorError(f"the KerasTuner mirror has no model family {family!r}")


def objective_of(task: Task) -> tuple[str, str, Any]:
    """(objective name, direction, Keras metric or None) for the task's metric."""
    import keras

    name = task.metric.name
    if name == "accuracy":
        return "val_accuracy", "max", "accuracy"
    if name == "roc_auc":
        return "val_auc", "max", keras.metrics.AUC(name="auc")
    if name == "f1":
        return "val_f1", "max", keras.metrics.F1Score(average="micro", threshold=0.5, name="f1")
    if name == "rmse":
        return "val_loss", "min", None
    raise MirrorError(f"the KerasTuner mirror has no objective for metric {name!r}")


def make_hypermodel(task: Task, space: dict[str, Any], x_fit: np.ndarray, y_fit: np.ndarray) -> Any:
    """A `build(hp)` function for automl's `space` on this task (statistics from `x_fit`)."""
    import keras

    mean, variance = _statistics(x_fit, space["preprocessors.0"])
    shape = tuple(x_fit.shape[1:])
    n_classes = int(np.max(y_fit)) + 1 if task.task == "multiclass" else 1
    y_mean, y_std = float(np.mean(y_fit)), float(np.std(y_fit)) or 1.0
    families = space["model"]

    def build(hp: Any) -> Any:
        family = _hp(hp, "model", families)
        scope = (
            hp.conditional_scope("model", [family])
            if isinstance(families, Dist)
            else contextlib.nullcontext()
        )
        with scope:
            prefix = f"model.{family}."
            params = {
                n[len(prefix) :]: _hp(hp, n, v) for n, v in space.items() if n.startswith(prefix)
            }
        lr = _hp(hp, "optimizer.adam.learning_rate", space["optimizer.adam.learning_rate"])
        inputs = keras.Input(shape=shape)
        x = keras.layers.Normalization(axis=-1, mean=mean.tolist(), variance=variance.tolist())(
            inputs
        )
        x = _family(family, x, params, shape)
        if task.task == "multiclass":
            out, loss = (
                keras.layers.Dense(n_classes, activation="softmax")(x),
                "sparse_categorical_crossentropy",
            )
        elif task.task == "binary":
            out, loss = keras.layers.Dense(1, activation="sigmoid")(x), "binary_crossentropy"
        else:
            out = keras.layers.Rescaling(scale=y_std, offset=y_mean)(keras.layers.Dense(1)(x))
            loss = "mse"
        model = keras.Model(inputs, out)
        metric = objective_of(task)[2]
        model.compile(
            optimizer=keras.optimizers.Adam(lr), loss=loss, metrics=[metric] if metric else []
        )
        return model

    return build


@dataclass
class KerasTunerResult:
    """The best model's test predictions, the best trial's score, and timing."""

    predictions: np.ndarray  # labels, P(class 1) (ROC AUC) or values
    estimate: float
    wall_s: float
    detail: dict[str, Any]


def _targets(task: Task, y: np.ndarray) -> np.ndarray:
    if task.task == "multiclass":
        return y.astype("int64")
    return y.astype("float32").reshape(-1, 1)


def run_kerastuner(
    task: Task,
    split: Split,
    space: dict[str, Any],
    trials: int,
    seed: int,
    work: Path,
    patience: int = DEFAULT_PATIENCE,
) -> KerasTunerResult:
    """RandomSearch over `space` (from `read_space`) with `trials` trials; score the best model."""
    import keras
    import keras_tuner as kt

    started = time.perf_counter()
    keras.utils.set_random_seed(seed)
    n_fit = len(split.x_train) - int(len(split.x_train) * VALIDATION_SPLIT)  # Keras' split
    build = make_hypermodel(task, space, split.x_train[:n_fit], split.y_train[:n_fit])
    objective, direction, _ = objective_of(task)
    tuner = kt.RandomSearch(
        build,
        objective=kt.Objective(objective, direction),
        max_trials=trials,
        seed=seed,
        directory=str(work),
        project_name=f"kerastuner-{task.name}",
        overwrite=True,
    )
    stop = keras.callbacks.EarlyStopping(
        monitor=objective, mode=direction, patience=patience, restore_best_weights=True
    )
    tuner.search(
        split.x_train,
        _targets(task, split.y_train),
        epochs=int(space["training.epochs"]),
        batch_size=int(space["training.batch_size"]),
        validation_split=VALIDATION_SPLIT,
        callbacks=[stop],
        class_weight=balanced_weights(split.y_train) if task.imbalanced else None,
        verbose=0,
    )
    best_trial = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    raw = np.asarray(model.predict(split.x_test, verbose=0))
    wall = time.perf_counter() - started
    if task.task == "multiclass":
        pred = raw.argmax(axis=1)
    elif task.task == "binary":
        pred = raw.reshape(-1) if task.metric.uses_proba else (raw.reshape(-1) > 0.5).astype(int)
    else:
        pred = raw.reshape(-1)
    score = float(best_trial.score)
    estimate = float(np.sqrt(score)) if task.metric.name == "rmse" else score
    done = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
    return KerasTunerResult(
        predictions=pred,
        estimate=estimate,
        wall_s=wall,
        detail={
            "objective": objective,
            "best_trial": best_trial.trial_id,
            "best_params": dict(best_trial.hyperparameters.values),
            "trials_completed": len(done),
            "trials": len(tuner.oracle.trials),
        },
    )
