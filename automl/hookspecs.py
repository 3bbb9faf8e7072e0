"""Every hook a plugin can implement. This is the one file plugin authors read.

Registration hooks receive a `register` callable owned by the host. Call it once per component
instance; the host records which plugin supplied it, so duplicates name both plugins and
`automl plugins` can show where everything came from::

    from automl import hookimpl
    from automl.components import BaseLoss, float_param

    class LogCosh(BaseLoss):
        name = "log_cosh"
        help = "Log-cosh regression loss."
        tasks = ("regression",)

        def build(self, task, n_classes, **params):
            import keras
            return keras.losses.LogCosh()

    @hookimpl
    def register_losses(register):
        register(LogCosh())

Lifecycle hooks observe a study without touching it (loggers, notifiers, trackers). automl calls
them through `automl.hooks.LifecycleHooks`: an exception in `on_trial_start` or `on_epoch_end`
fails that trial with the plugin named in its reason; one in `on_trial_end`, `on_study_start` or
`on_study_end` is a warning naming the plugin, and the other plugins' implementations still run.
The study goes on either way. Hook wrappers (`@hookimpl(wrapper=True)`) work as in pluggy.

The plugin author guide, `docs/plugins.md`, shows every hook with an example.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import optuna

    from automl.components import Component
    from automl.spec import Spec

PROJECT = "automl"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[["Component"], None]


# ------------------------------------------------------------------------------ registration hooks
@hookspec
def register_data_sources(register: Register) -> None:
    """Register data sources (subclasses of `BaseDataSource`).

    Example: ``register(CsvSource())``; used in YAML as ``data: {source: {csv: {path: x.csv}}}``.
    """


@hookspec
def register_preprocessors(register: Register) -> None:
    """Register preprocessors (subclasses of `BasePreprocessor`), fitted on the training split.

    Example: ``register(Standardize())``; used in YAML as ``preprocessors: [standardize]``.
    """


@hookspec
def register_model_families(register: Register) -> None:
    """Register model families (subclasses of `BaseModelFamily`).

    Example: ``register(MLP())``; used in YAML as ``model: {mlp: {layers: {low: 1, high: 3}}}``.
    """


@hookspec
def register_activations(register: Register) -> None:
    """Register activation functions (subclasses of `BaseActivation`).

    Example: ``register(Relu())``; used in YAML as ``activation: [relu, tanh]``.
    """


@hookspec
def register_losses(register: Register) -> None:
    """Register losses (subclasses of `BaseLoss`).

    Example: ``register(CrossEntropy())``; used in YAML as ``loss: crossentropy``.
    """


@hookspec
def register_regularizers(register: Register) -> None:
    """Register regularizers (subclasses of `BaseRegularizer`): weight penalties or layers.

    Example: ``register(L2())``; used in YAML as ``regularizer: {l2: {}, none: {}}``.
    """


@hookspec
def register_optimizers(register: Register) -> None:
    """Register optimizers (subclasses of `BaseOptimizer`).

    Example: ``register(Adam())``; used in YAML as ``optimizer: {adam: {}}``.
    """


@hookspec
def register_metrics(register: Register) -> None:
    """Register evaluation metrics (subclasses of `BaseMetric`), each with its direction.

    Example: ``register(Accuracy())``; used in YAML as ``study: {metric: accuracy}``.
    """


# --------------------------------------------------------------------------------- lifecycle hooks
@hookspec
def on_study_start(study: optuna.Study, spec: Spec) -> None:
    """Called once per `automl tune` run, before its first trial (also when resuming).

    Example: ``def on_study_start(study, spec): print("tuning", study.study_name)``.
    """


@hookspec
def on_trial_start(trial: optuna.Trial, config: dict[str, Any]) -> None:
    """Called when a trial's configuration is sampled, before its model is built.

    `config` is the JSON-able trial configuration (components, params, training settings).
    Example: ``def on_trial_start(trial, config): print(trial.number, config["model"])``.
    """


@hookspec
def on_epoch_end(trial: optuna.Trial, epoch: int, logs: dict[str, float]) -> None:
    """Called after each training epoch with Keras' logs plus `score` (the chosen metric).

    Example: ``def on_epoch_end(trial, epoch, logs): print(epoch, logs["score"])``.
    """


@hookspec
def on_trial_end(trial: optuna.trial.FrozenTrial) -> None:
    """Called after a trial finished in any state (complete, pruned or failed).

    Example: ``def on_trial_end(trial): print(trial.number, trial.state.name, trial.value)``.
    """


@hookspec
def on_study_end(study: optuna.Study) -> None:
    """Called once when a tune run stops (budget reached, timeout or Ctrl-C).

    Example: ``def on_study_end(study): print(len(study.trials), "trials")``.
    """


REGISTRATION_HOOKS: dict[str, str] = {
    "register_data_sources": "data_source",
    "register_preprocessors": "preprocessor",
    "register_model_families": "model_family",
    "register_activations": "activation",
    "register_losses": "loss",
    "register_regularizers": "regularizer",
    "register_optimizers": "optimizer",
    "register_metrics": "metric",
}


def hook_names() -> list[str]:
    """Every hook declared in this module, in file order."""
    return [name for name, value in globals().items() if hasattr(value, f"{PROJECT}_spec")]
