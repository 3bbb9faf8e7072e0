"""The Optuna objective: sample a configuration, run the trial, record what it did, keep its model.

Each trial records, as user attributes: `config` (the sampled configuration), `epochs`,
`best_epoch`, `train_seconds`, `history` ({"loss", "val_loss", "score"}: one float per epoch run,
pruned trials included), and why it was pruned (`pruned_reason`) or failed (`fail_reason`,
`interrupted`). With several metrics or constraints it also records `metrics` ({name: value}
of every metric it computed) and, through `Trial.set_constraint`, how far it is from each bound of
`study.constraints` (Optuna's samplers and `best_trials` read those), plus `infeasible` (why, when
it violates one). The model of a trial that enters the top `keep_checkpoints` is saved under
`runs/<study>/trials/`; `prune_checkpoints` removes the others.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Sequence

import optuna
from optuna.trial import TrialState

from automl.data import Splits, load_splits
from automl.errors import AutoMLError
from automl.hooks import LifecycleHooks
from automl.leaderboard import INFEASIBLE_ATTR, pareto_front, position, ranked
from automl.measures import broken_constraints, objective_values, violations
from automl.parallel import (
    IsolatedObjective,
    enable_compilation_cache,
    extra_plugins,
    interrupt_reason,
)
from automl.plugins import Catalog
from automl.space import sample_config
from automl.spec import Spec, open_space
from automl.storage import checkpoint_path, inside_study_dir, open_study, study_dir
from automl.trial import run_trial


# ------------------------------------------------------------------------------- objective
class Objective:
    """The Optuna objective of a study: one call runs one trial.

    Args:
        spec: the search space.
        splits: the data, split once per process (`prepare_data`).
        catalog: the plugins' registries and hooks.
        verbose: Keras fit verbosity. Defaults to `0`.
    """

    def __init__(self, spec: Spec, splits: Splits, catalog: Catalog, verbose: int = 0) -> None:
        self.spec, self.splits, self.catalog, self.verbose = spec, splits, catalog, verbose

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        # an exception in a plugin's on_trial_start / on_epoch_end fails the trial, naming it
        hooks = LifecycleHooks(self.catalog)
        try:
            config = sample_config(trial, self.spec)
            trial.set_user_attr("config", config.to_json())
            hooks.on_trial_start(trial=trial, config=config)
            result = run_trial(
                config,
                self.spec,
                self.splits,
                self.catalog,
                trial,
                hooks,
                self.verbose,
                record_history=functools.partial(trial.set_user_attr, "history"),
            )
        except optuna.TrialPruned as exc:
            trial.set_user_attr("epochs", _reported_epochs(trial))
            trial.set_user_attr("pruned_reason", str(exc))
            raise
        except KeyboardInterrupt as exc:
            trial.set_user_attr("interrupted", True)
            trial.set_user_attr("fail_reason", interrupt_reason(exc))
            raise
        except Exception as exc:
            trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
            raise
        trial.set_user_attr("epochs", result.epochs)
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("train_seconds", round(result.duration, 3))
        values = objective_values(self.spec, result.values)
        feasible = record_metrics(trial, self.spec, result.values)
        if feasible and ranks_in_top(trial.study, self.spec, values):
            path = checkpoint_path(self.spec, trial.number)
            path.parent.mkdir(parents=True, exist_ok=True)
            result.model.save(path)
        return values


def record_metrics(trial: optuna.Trial, spec: Spec, values: dict[str, float]) -> bool:
    """Record every metric's value (when there is more than the one returned) and the
    constraints; return whether the trial meets them all."""
    if len(values) > 1:
        trial.set_user_attr("metrics", values)
    for metric, amount in violations(spec, values).items():
        trial.set_constraint(metric, amount)
    broken = broken_constraints(spec, values)
    if broken:
        trial.set_user_attr(INFEASIBLE_ATTR, "violates study.constraints: " + "; ".join(broken))
    return not broken


def _reported_epochs(trial: optuna.Trial) -> int:
    frozen = trial.study._storage.get_trial(trial._trial_id)
    return len(frozen.intermediate_values)


# ----------------------------------------------------------------------------- checkpoints
def ranks_in_top(study: optuna.Study, spec: Spec, values: float | Sequence[float]) -> bool:
    """Whether a new trial's value(s) would enter the top `keep_checkpoints` of the leaderboard
    or, with several objectives, the Pareto front (else its model is not saved)."""
    point = [values] if isinstance(values, float | int) else list(values)
    place, front = position(study, point)
    return place < spec.study.keep_checkpoints or (spec.study.multi_objective and front == 1)


def prune_checkpoints(study: optuna.Study, spec: Spec) -> None:
    """Keep the checkpoints of the top `keep_checkpoints` trials and, with several objectives,
    of the Pareto front (every point of it can be exported); bounded disk use."""
    keep = {t.number for t in ranked(study)[: spec.study.keep_checkpoints]}
    if spec.study.multi_objective:
        keep |= {t.number for t in pareto_front(study)}
    # another worker may be saving the checkpoint of a trial it has not told yet
    keep |= {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    trials_dir = study_dir(spec) / "trials"
    if not trials_dir.exists():
        return
    for child in trials_dir.iterdir():
        if child.name.isdigit() and int(child.name) not in keep and inside_study_dir(spec, child):
            shutil.rmtree(child, ignore_errors=True)


# ------------------------------------------------------------------------------- isolation
def make_objective(
    spec: Spec, splits: Splits, catalog: Catalog, storage: str | None, verbose: int = 0
) -> Objective | IsolatedObjective:
    """The objective of this process: `Objective`, or with `study.isolation: process` one that
    runs `run_isolated_trial` in a fresh process per trial."""
    if spec.study.isolation != "process":
        return Objective(spec, splits, catalog, verbose)
    if not spec.path:
        raise AutoMLError(
            "`isolation: process` needs a search space read from a file (spec.path is empty)"
        )
    plugins = extra_plugins(spec)
    return IsolatedObjective(
        functools.partial(run_isolated_trial, spec.path, plugins, storage, verbose)
    )


def run_isolated_trial(
    path: str,
    plugins: tuple[str, ...],
    storage: str | None,
    verbose: int,
    trial_id: int,
    number: int,
) -> float | tuple[float, ...]:
    """One trial in its own process: read the space again, open the study, run `Objective`."""
    spec, catalog = open_space(path, plugins)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # a fresh sampler per trial: seed it by trial number, or every trial samples alike
    study = open_study(spec, storage, create=False, seed_offset=number)
    enable_compilation_cache(study_dir(spec))
    splits = load_splits(spec, catalog)
    return Objective(spec, splits, catalog, verbose)(optuna.trial.Trial(study, trial_id))


__all__ = [
    "Objective",
    "make_objective",
    "prune_checkpoints",
    "ranks_in_top",
    "run_isolated_trial",
]
