"""One trial: build the model from plugins, compile, fit with early stopping and pruning, score.

Keras is used only through `keras` / `keras.ops`, so the JAX and PyTorch backends work too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import optuna

from automl.components import VALUES, BuildContext, maximizes
from automl.data import Splits
from automl.errors import TrialFailed
from automl.forecast import forecast_head
from automl.inputs import as_float_inputs, preprocess, token_problem
from automl.measures import MEASURE_ROWS, epoch_metric, measured_metrics, metric_values
from automl.plugins import Catalog
from automl.row_batches import RowBatches
from automl.space import TrialConfig
from automl.spec import Spec
from automl.streaming import is_lazy


def build_model(config: TrialConfig, splits: Splits, catalog: Catalog) -> keras.Model:
    """Preprocessors (fitted on train) + model family body + task head, as one `keras.Model`."""
    inputs = keras.Input(
        shape=splits.input_shape, name="inputs", dtype=_input_dtype(splits.x_train)
    )
    x, vocabulary_size = preprocess(inputs, config, splits, catalog)
    shape = tuple(int(d) for d in x.shape[1:])
    regularizers = [(catalog["regularizer"].get(r.name), r.params) for r in config.regularizers]

    def kernel_regularizer() -> Any:
        penalties = [reg.kernel_regularizer(**params) for reg, params in regularizers]
        penalties = [p for p in penalties if p is not None]
        if not penalties:
            return None
        if len(penalties) == 1:
            return penalties[0]
        raise TrialFailed(
            "only one weight penalty can apply at a time; combine them with l1_l2 instead of "
            f"listing {[r.name for r, _ in regularizers]}"
        )

    def regularizer_layers() -> list[keras.layers.Layer]:
        return [layer for reg, params in regularizers for layer in reg.layers(**params)]

    activation = catalog["activation"].get(config.activation.name)
    n_outputs = output_width(splits)
    ctx = BuildContext(
        task=splits.task,
        n_outputs=n_outputs,
        input_shape=shape,
        make_activation=lambda: activation.build(**config.activation.params),
        make_kernel_regularizer=kernel_regularizer,
        make_regularizer_layers=regularizer_layers,
        vocabulary_size=vocabulary_size,
    )
    with catalog.blame("model_family", config.model.name) as family:
        problem = family.check_input(shape) or token_problem(family, vocabulary_size, catalog)
        if problem:
            raise TrialFailed(problem)
        features = family.build(x, ctx, **config.model.params)
    outputs = _head(features, splits, inputs)
    return keras.Model(inputs, outputs, name="automl_model")


def class_weights(setting: Any, splits: Splits) -> dict[int, float] | None:
    """Keras `class_weight` from `training.class_weight`: "balanced" gives n / (k * count_c)
    (scikit-learn's formula), a mapping gives {class label: weight}; None for regression."""
    if not setting or splits.task in VALUES:
        return None
    y = np.asarray(splits.y_train, dtype="int64")
    k = splits.n_classes
    if setting == "balanced":
        counts = np.bincount(y, minlength=k)
        return {c: float(len(y) / (k * counts[c])) if counts[c] else 1.0 for c in range(k)}
    names = splits.class_names or [str(c) for c in range(k)]
    unknown = sorted(set(map(str, setting)) - set(names))
    if unknown:
        raise TrialFailed(
            f"training.class_weight names classes the data does not have: {unknown}. "
            f"Expected some of: {names}"
        )
    weights = {str(label): float(w) for label, w in setting.items()}
    return {i: weights.get(name, 1.0) for i, name in enumerate(names)}


def _input_dtype(x: np.ndarray) -> str:
    dtype = x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype  # lazy rows: not read
    return "float32" if dtype.kind in "iufb" else "string"


def output_width(splits: Splits) -> int:
    """Units of the output layer: one per class (multiclass), per forecast step, else one."""
    if splits.task == "multiclass":
        return splits.n_classes
    if splits.task == "forecast":
        return int(np.shape(splits.y_train)[1])
    return 1


def _head(features: Any, splits: Splits, inputs: Any) -> Any:
    """Output layer fitting the task; values (regression, forecast) are rescaled to target units."""
    if splits.task == "multiclass":
        return keras.layers.Dense(splits.n_classes, activation="softmax", name="output")(features)
    if splits.task == "binary":
        return keras.layers.Dense(1, activation="sigmoid", name="output")(features)
    if splits.task == "forecast" and "target_index" in splits.schema:
        return forecast_head(features, splits, inputs)
    y = np.asarray(splits.y_train, dtype="float64")
    mean, std = float(y.mean()), float(y.std()) or 1.0
    out = keras.layers.Dense(output_width(splits), name="output_standardized")(features)
    return keras.layers.Rescaling(scale=std, offset=mean, name="output")(out)


def fit_targets(y: np.ndarray, task: str) -> np.ndarray:
    """Targets in the shape and dtype the head and loss expect."""
    if task == "multiclass":
        return np.asarray(y, dtype="int64")
    if task == "forecast":
        return np.asarray(y, dtype="float32")
    return np.asarray(y, dtype="float32").reshape(-1, 1)


def forward(model: keras.Model, x: Any, batch_size: int = 1024) -> np.ndarray:
    """The model's raw output on `x`, by direct forward passes in batches.

    Much cheaper than `model.predict` for the validation split after every epoch (no
    `tf.function` per model, no data adapter). Each batch is sliced before it is converted, so
    streamed rows (`automl.streaming.LazyRows`) are read one batch at a time.
    """
    n = len(x)
    if n == 0:
        return np.zeros((0, *model.output_shape[1:]), dtype="float32")
    return np.concatenate(
        [
            keras.ops.convert_to_numpy(
                model(as_float_inputs(x[i : i + batch_size]), training=False)
            )
            for i in range(0, n, batch_size)
        ]
    )


def output_from_raw(raw: np.ndarray, task: str) -> np.ndarray:
    """Class probabilities (n, k), binary as two columns; values (n,) for regression, (n, horizon)
    for a forecast (the raw output)."""
    if task == "binary":
        p = raw.reshape(-1)
        return np.stack([1.0 - p, p], axis=1)
    if task == "regression":
        return raw.reshape(-1)
    return raw


def predict_output(model: keras.Model, x: Any, task: str, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities (n, k) for classification (binary: 2 columns); values (n,) for
    regression, (n, horizon) for a forecast."""
    return output_from_raw(forward(model, x, batch_size), task)


class ScoreCallback(keras.callbacks.Callback):
    """Computes the chosen metric exactly on the validation split after every epoch.

    It puts `score` into the epoch logs (so EarlyStopping can monitor it), reports it to Optuna
    and asks the pruner whether to stop (a multi-objective study reports nothing: Optuna
    cannot prune it). A model whose output becomes NaN fails the trial.
    """

    def __init__(
        self,
        metric: Any,
        x_val: np.ndarray,
        y_val: np.ndarray,
        task: str,
        trial: optuna.Trial | None = None,
        hook: Any = None,
        loss: Any = None,
    ) -> None:
        super().__init__()
        self.metric, self.x_val, self.y_val, self.task = metric, x_val, y_val, task
        self.trial, self.hook = trial, hook
        # the validation loss is computed from the same forward pass (no separate evaluate pass)
        self.loss = keras.losses.get(loss) if isinstance(loss, str) else loss
        self.y_val_fit = fit_targets(y_val, task)
        #: per epoch that ran: training loss, validation loss and score
        self.history: dict[str, list[float]] = {"loss": [], "val_loss": [], "score": []}
        self.pruned_at: int | None = None
        self.nan_at: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        loss = logs.get("loss")
        raw = forward(self.model, self.x_val)
        y_pred = output_from_raw(raw, self.task)
        if (loss is not None and not math.isfinite(float(loss))) or not np.all(np.isfinite(y_pred)):
            self.nan_at = epoch
            self.model.stop_training = True
            return
        if self.loss is not None:
            logs["val_loss"] = float(keras.ops.convert_to_numpy(self.loss(self.y_val_fit, raw)))
        score = float(self.metric.score(self.y_val, y_pred))
        logs["score"] = score
        for key in self.history:
            if logs.get(key) is not None:
                self.history[key].append(float(logs[key]))
        if self.hook is not None:
            self.hook.on_epoch_end(trial=self.trial, epoch=epoch, logs=dict(logs))
        if self.trial is not None and len(self.trial.study.directions) == 1:
            self.trial.report(score, epoch)
            if self.trial.should_prune():
                self.pruned_at = epoch
                self.model.stop_training = True


@dataclass
class TrialResult:
    """What one trial produced: `score` is the first metric's value, `values` every metric's
    (the study's metrics, then those only its constraints name)."""

    score: float
    model: keras.Model
    epochs: int
    best_epoch: int
    duration: float
    history: dict[str, list[float]] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    #: the kept weights' output on the validation rows (`predict_output`): out-of-fold predictions
    predictions: np.ndarray = field(default_factory=lambda: np.zeros(0))


def compile_model(
    config: TrialConfig, splits: Splits, catalog: Catalog, seed: int | None
) -> tuple[keras.Model, Any, list[keras.callbacks.Callback]]:
    """In a fresh Keras session (seeded), build `config`'s model and compile it.

    Returns the model, its loss and the callbacks of the optimizer (learning-rate schedules) and of
    the model family (fine-tuning schedules), in that order. Shared by trials and by `automl
    export --retrain`, so both train the same way.
    """
    keras.utils.clear_session(free_memory=True)  # also runs the garbage collector
    if seed is not None:
        keras.utils.set_random_seed(seed)
    model = build_model(config, splits, catalog)
    with catalog.blame("loss", config.loss.name) as loss_component:
        loss = loss_component.build(splits.task, splits.n_classes, **config.loss.params)
    with catalog.blame("optimizer", config.optimizer.name) as opt_component:
        optimizer = opt_component.build(**config.optimizer.params)
        callbacks = list(opt_component.callbacks(**config.optimizer.params))
    with catalog.blame("model_family", config.model.name) as family:
        callbacks += family.callbacks(**config.model.params)
    model.compile(optimizer=optimizer, loss=loss)
    return model, loss, callbacks


def fit_model(
    model: keras.Model,
    config: TrialConfig,
    spec: Spec,
    splits: Splits,
    epochs: int,
    callbacks: list[keras.callbacks.Callback],
    verbose: int = 0,
) -> keras.callbacks.History:
    """Fit on the train part of `splits` with the trial's batch size and the class weights.

    Shared by trials and `automl export --retrain` (which passes train + validation as train).
    Streamed rows are fed one batch at a time (`RowBatches`, shuffled each epoch like arrays).
    """
    y = fit_targets(splits.y_train, splits.task)
    data: dict[str, Any]
    if is_lazy(splits.x_train):
        data = {"x": RowBatches(splits.x_train, y, config.batch_size, spec.study.seed or 0)}
    else:
        data = {"x": as_float_inputs(splits.x_train), "y": y, "batch_size": config.batch_size}
    return model.fit(
        **data,
        epochs=epochs,
        callbacks=callbacks,
        class_weight=class_weights(spec.training.class_weight, splits),
        verbose=verbose,
    )


def trial_seed(spec: Spec, number: int) -> int | None:
    """The weight-initialisation seed of trial `number` (None when the study is unseeded)."""
    return spec.study.seed + number if spec.study.seed is not None else None


def _early_stopping(spec: Spec, direction: str) -> list[keras.callbacks.Callback]:
    es = spec.training.early_stopping
    if es is None:
        return []
    mode = "max" if es.monitor == "score" and maximizes(direction) else "min"
    return [
        keras.callbacks.EarlyStopping(
            monitor=es.monitor,
            mode=mode,
            patience=es.patience,
            min_delta=es.min_delta,
            restore_best_weights=True,
        )
    ]


def run_trial(
    config: TrialConfig,
    spec: Spec,
    splits: Splits,
    catalog: Catalog,
    trial: optuna.Trial | None = None,
    hook: Any = None,
    verbose: int = 0,
    record_history: Callable[[dict[str, list[float]]], None] | None = None,
    report: bool = True,
    epochs: int | None = None,
) -> TrialResult:
    """Build, compile, fit and score one configuration. Raises `optuna.TrialPruned` when pruned.

    Args:
        record_history: called with the per-epoch `loss`, `val_loss` and `score` of the epochs
            that ran, whether the trial completes, is pruned or fails. Defaults to `None`.
        report: report each epoch's score to `trial`, whose pruner may stop the fit (`False`
            for the folds after the first: `run_folds` reports their mean). Defaults to `True`.
        epochs: train exactly this many epochs, without early stopping, and keep the last
            weights (the folds after the first: nothing is chosen on the rows they are scored
            on). Defaults to `None`: `config.epochs` with early stopping.
    """
    started = time.perf_counter()
    model, loss, schedules = compile_model(
        config, splits, catalog, trial_seed(spec, trial.number if trial is not None else 0)
    )
    metric = epoch_metric(spec, catalog, splits)
    reporter = trial if report else None
    scorer = ScoreCallback(metric, splits.x_val, splits.y_val, splits.task, reporter, hook, loss)
    stopping = _early_stopping(spec, metric.direction) if epochs is None else []
    callbacks = [scorer, *schedules, *stopping]
    try:
        with catalog.blame("model_family", config.model.name):
            fit_model(model, config, spec, splits, epochs or config.epochs, callbacks, verbose)
    finally:
        if record_history is not None:
            record_history(scorer.history)
    if scorer.nan_at is not None:
        raise TrialFailed(f"the loss or the model output became NaN at epoch {scorer.nan_at + 1}")
    if scorer.pruned_at is not None:
        raise optuna.TrialPruned(f"pruned at epoch {scorer.pruned_at + 1}")
    # the values of the weights we keep (EarlyStopping restored the best epoch), computed exactly;
    # the predictions are kept whatever the metrics (out-of-fold predictions)
    predictions = predict_output(model, splits.x_val, splits.task)
    names = measured_metrics(spec)
    values = _validation_values(names, catalog, model, splits, predictions)
    scores = np.asarray(scorer.history["score"])
    ran = len(scorer.history["loss"])
    pick = np.argmax if maximizes(metric.direction) else np.argmin
    return TrialResult(
        score=values[names[0]],
        model=model,
        epochs=ran,
        best_epoch=int(pick(scores)) + 1 if len(scores) else ran,
        duration=time.perf_counter() - started,
        history=scorer.history,
        values=values,
        predictions=predictions,
    )


def _validation_values(
    names: tuple[str, ...], catalog: Catalog, model: keras.Model, splits: Splits, output: Any
) -> dict[str, float]:
    """Each metric of `names` on the validation rows, given the model's `output` on them."""
    rows = as_float_inputs(splits.x_val[:MEASURE_ROWS])
    return metric_values(
        names, catalog, model, splits.y_val, predictions=lambda: output, rows=rows, splits=splits
    )
