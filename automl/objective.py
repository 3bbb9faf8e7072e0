"""The Optuna objective: sample a configuration, run it on every fold, record it, keep its models.

A trial trains one model per fold of the study's `Partition` (K folds, or one hold-out split) and
scores the mean of the fold scores. The first fold trains with early stopping (when it is on); the
others train for the epoch count at which the first scored best, without early stopping: cheaper
(no patience epochs), and their out-of-fold predictions come from models that chose nothing on the
rows they predict (a less optimistic estimate).

Pruning: the first fold reports its epochs as steps 0..E-1 (E = `training.epochs`), so the pruner
sees learning curves as with one split and stops a bad trial early in its first fold; after fold
k (0-based) the running mean of the fold scores is reported at step E + k, so a trial whose later
folds fall behind is stopped too. At those fold steps a trial also stops unless its running mean
is in the top quarter of the complete trials' at the same step (Optuna's `PercentilePruner`; the
first `keep_checkpoints` complete trials run every fold): the remaining folds are spent on trials
that can still be exported or ensembled. That is what keeps a K-fold study within about 3x the
cost of one split (`benchmarks/folds_cost.py`). With `pruner: none` every trial runs every fold.
A hold-out study reports epochs only, as before.

Each trial records, as user attributes: `config` (the sampled configuration), `epochs` (of the
first fold), `best_epoch` (the mean over folds, for a final refit), `fold_scores`,
`fold_epochs`, `train_seconds` (all folds), `history` ({"loss", "val_loss", "score"}: one float
per epoch of the first fold, pruned trials included), and why it was pruned (`pruned_reason`) or
failed (`fail_reason`, `interrupted`). A trial that enters the top `keep_checkpoints` keeps its
fold models and its out-of-fold predictions under `runs/<study>/trials/<n>/` (`automl.storage`);
`prune_checkpoints` removes the others.

With several metrics or constraints a trial also records `metrics` ({name: mean over folds} of
every metric it computed) and, through `Trial.set_constraint`, how far those means are from each
bound of `study.constraints` (Optuna's samplers and `best_trials` read those), plus `infeasible`
(why, when it violates one). A multi-objective study reports nothing to the pruner (Optuna
cannot prune it): every trial runs every fold.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Sequence

import numpy as np
import optuna
from optuna.trial import TrialState

from automl.data import Partition, load_partition
from automl.errors import AutoMLError
from automl.folds import FoldResults, run_folds
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
from automl.storage import (
    checkpoint_path,
    inside_study_dir,
    oof_path,
    open_study,
    study_dir,
    trial_dir,
)


# ------------------------------------------------------------------------------- objective
class Objective:
    """The Optuna objective of a study: one call runs one trial (every fold).

    Args:
        spec: the search space.
        partition: the data, partitioned once per process (`load_partition`).
        catalog: the plugins' registries and hooks.
        verbose: Keras fit verbosity. Defaults to `0`.
    """

    def __init__(
        self, spec: Spec, partition: Partition, catalog: Catalog, verbose: int = 0
    ) -> None:
        self.spec, self.partition, self.catalog, self.verbose = spec, partition, catalog, verbose

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        # an exception in a plugin's on_trial_start / on_epoch_end fails the trial, naming it
        hooks = LifecycleHooks(self.catalog)
        folds = FoldResults()
        try:
            config = sample_config(trial, self.spec)
            trial.set_user_attr("config", config.to_json())
            hooks.on_trial_start(trial=trial, config=config)
            run_folds(
                config, self.spec, self.partition, self.catalog, trial, hooks, self.verbose, folds
            )
        except optuna.TrialPruned as exc:
            epochs = _reported_epochs(trial, self.spec.training.epochs)
            _record(trial, folds, epochs)
            trial.set_user_attr("pruned_reason", str(exc))
            raise
        except KeyboardInterrupt as exc:
            trial.set_user_attr("interrupted", True)
            trial.set_user_attr("fail_reason", interrupt_reason(exc))
            raise
        except Exception as exc:
            trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
            raise
        _record(trial, folds)
        values = objective_values(self.spec, folds.values)
        feasible = record_metrics(trial, self.spec, folds.values)
        if feasible and ranks_in_top(trial.study, self.spec, values):
            save_checkpoints(self.spec, trial.number, folds, self.partition)
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


def _record(trial: optuna.Trial, folds: FoldResults, pruned_in_first: int | None = None) -> None:
    """The trial's user attributes from the folds that ran (`pruned_in_first`: the epochs of a
    first fold the pruner stopped)."""
    results = folds.results
    if not results:  # pruned during its first fold
        trial.set_user_attr("epochs", pruned_in_first)
        trial.set_user_attr("fold_epochs", [pruned_in_first])
        return
    trial.set_user_attr("epochs", results[0].epochs)
    trial.set_user_attr("best_epoch", round(float(np.mean([r.best_epoch for r in results]))))
    trial.set_user_attr("fold_scores", folds.scores)
    trial.set_user_attr("fold_epochs", [r.epochs for r in results])
    trial.set_user_attr("train_seconds", round(sum(r.duration for r in results), 3))


def save_checkpoints(spec: Spec, number: int, folds: FoldResults, partition: Partition) -> None:
    """The trial's fold models (`fold-<k>.keras`) and out-of-fold predictions (`oof.npy`)."""
    trial_dir(spec, number).mkdir(parents=True, exist_ok=True)
    for k, model in enumerate(folds.models):
        model.save(checkpoint_path(spec, number, k))
    np.save(oof_path(spec, number), folds.out_of_fold(partition))


def _reported_epochs(trial: optuna.Trial, epochs: int) -> int:
    """The epochs the first fold ran (steps from `epochs` on are fold means)."""
    frozen = trial.study._storage.get_trial(trial._trial_id)
    return sum(step < epochs for step in frozen.intermediate_values)


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
    spec: Spec, partition: Partition, catalog: Catalog, storage: str | None, verbose: int = 0
) -> Objective | IsolatedObjective:
    """The objective of this process: `Objective`, or with `study.isolation: process` one that
    runs `run_isolated_trial` in a fresh process per trial."""
    if spec.study.isolation != "process":
        return Objective(spec, partition, catalog, verbose)
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
    partition = load_partition(spec, catalog)
    return Objective(spec, partition, catalog, verbose)(optuna.trial.Trial(study, trial_id))


__all__ = [
    "FoldResults",
    "Objective",
    "make_objective",
    "prune_checkpoints",
    "ranks_in_top",
    "run_folds",
    "run_isolated_trial",
    "save_checkpoints",
]
