"""A trial's folds: train one configuration on every fold of the study's `Partition`, report the
running mean to the pruner, keep what each fold produced (the module docstring of
`automl.objective` says how trials are scored and pruned)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import keras
import numpy as np
import optuna

from automl.data import Partition
from automl.hooks import LifecycleHooks
from automl.plugins import Catalog
from automl.space import TrialConfig
from automl.spec import Spec
from automl.trial import TrialResult, run_trial

#: after a fold, a trial goes on only while its running mean is in this top percentile of the
#: complete trials' running means after the same fold
FOLD_PERCENTILE = 25.0


@dataclass
class FoldResults:
    """What the folds of one trial produced, in fold order."""

    results: list[TrialResult] = field(default_factory=list)

    @property
    def scores(self) -> list[float]:
        """The metric on each fold's validation rows."""
        return [r.score for r in self.results]

    @property
    def score(self) -> float:
        """The trial's score: the mean over folds."""
        return float(np.mean(self.scores))

    @property
    def values(self) -> dict[str, float]:
        """Every metric the trial computed (`TrialResult.values`): the mean over folds."""
        names = self.results[0].values
        return {n: float(np.mean([r.values[n] for r in self.results])) for n in names}

    @property
    def models(self) -> list[keras.Model]:
        """One model per fold."""
        return [r.model for r in self.results]

    def out_of_fold(self, partition: Partition) -> np.ndarray:
        """Predictions for every development row from the fold that validated it (NaN for rows
        no fold validated: the training rows of a hold-out split)."""
        first = self.results[0].predictions
        oof = np.full((len(partition.x), *first.shape[1:]), np.nan, dtype="float32")
        for (_, val), result in zip(partition.folds, self.results, strict=False):
            oof[val] = result.predictions
        return oof


def run_folds(
    config: TrialConfig,
    spec: Spec,
    partition: Partition,
    catalog: Catalog,
    trial: optuna.Trial,
    hooks: LifecycleHooks,
    verbose: int = 0,
    out: FoldResults | None = None,
) -> FoldResults:
    """Train `config` on every fold; report and prune as `automl.objective` says (a
    multi-objective study reports nothing: Optuna cannot prune it).

    The lifecycle hook `on_epoch_end` and the recorded `history` follow the first fold (the
    learning curve the pruner sees). Raises `optuna.TrialPruned` when pruned.

    Args:
        out: where each finished fold is added (the caller sees the folds that ran when the
            trial is pruned). Defaults to `None`: a new `FoldResults`.
    """
    out = out if out is not None else FoldResults()
    k_folds = len(partition.folds)
    for k in range(k_folds):
        first = k == 0
        try:
            result = run_trial(
                config,
                spec,
                partition.fold(k),
                catalog,
                trial,
                hooks if first else None,
                verbose,
                record_history=functools.partial(trial.set_user_attr, "history") if first else None,
                report=first,
                epochs=None if first else _later_epochs(spec, out),
            )
        except optuna.TrialPruned as exc:
            suffix = f" of fold 1 of {k_folds}" if partition.cross_validated else ""
            raise optuna.TrialPruned(f"{exc}{suffix}") from None
        out.results.append(result)
        if partition.cross_validated and len(trial.study.directions) == 1:
            mean = out.score
            trial.report(mean, spec.training.epochs + k)
            if k < k_folds - 1 and (trial.should_prune() or _behind(spec, trial)):
                raise optuna.TrialPruned(
                    f"pruned after fold {k + 1} of {k_folds}: mean {spec.study.metric} {mean:.4f}"
                )
    return out


def _behind(spec: Spec, trial: optuna.Trial) -> bool:
    """Whether a trial's running mean after a fold is outside the top `FOLD_PERCENTILE` of the
    complete trials' after the same fold (never with `pruner: none`)."""
    if spec.study.pruner.name == "none":
        return False
    pruner = optuna.pruners.PercentilePruner(
        FOLD_PERCENTILE,
        n_startup_trials=spec.study.keep_checkpoints,
        n_warmup_steps=spec.training.epochs,
    )
    return pruner.prune(trial.study, trial.study._storage.get_trial(trial._trial_id))


def _later_epochs(spec: Spec, first: FoldResults) -> int | None:
    """The epochs of the folds after the first: the first fold's best epoch count when it
    stopped early; None (the configured epochs) when early stopping is off."""
    return first.results[0].best_epoch if spec.training.early_stopping is not None else None


__all__ = ["FOLD_PERCENTILE", "FoldResults", "run_folds"]
