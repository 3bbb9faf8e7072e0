"""What to export: which trial or trials, and their Keras model as one model.

- a hold-out study: the best (or `--trial N`) trial's own weights;
- a cross-validated study: that trial's K fold models averaged (bagging: every development row
  was used to train K - 1 of them);
- `--ensemble N`: greedy ensemble selection (`_ensemble.greedy_selection`) over the top N trials'
  out-of-fold predictions, each picked trial contributing its fold models;
- `--single` (`--retrain`): the configuration trained again on every development row; the
  default of a cross-validated study whose metrics or constraints measure the model (its size,
  its latency), which K averaged fold models would multiply.

Each comes with the out-of-fold predictions that stand for it (a hold-out study: validation
rows only), from which the card's estimate and the decision threshold are computed. The
study-side helpers (opening the study, ranking its trials, the data partition, checkpoint paths:
`automl.storage`, `automl.leaderboard`) are imported here and nowhere else in the package.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.custom_objects import plugin_packages
from automl.data import Partition, load_partition
from automl.errors import ExportError, StudyError
from automl.export._config import configured_epochs, trial_config
from automl.export._ensemble import combine, greedy_selection
from automl.leaderboard import INFEASIBLE_ATTR, format_values, maximizes, pareto_front, ranked
from automl.measures import measures_the_model
from automl.model_files import load_keras_model
from automl.pareto import is_feasible
from automl.plugins import Catalog
from automl.spec import Spec
from automl.storage import checkpoint_path, oof_path, open_study
from automl.trial import compile_model, fit_model, trial_seed


@dataclass(frozen=True)
class ExportedModel:
    """The Keras model to export and where it came from.

    Args:
        trial: the trial whose configuration the model has (an ensemble: its best member).
        model: the Keras model, preprocessing layers included (an ensemble: one model).
        kind: `trial` (a hold-out trial's weights), `bag` (a trial's fold models averaged),
            `ensemble` (greedy selection over trials) or `single` (retrained on all rows).
        members: `{"trial", "fold", "weight"}` of each sub-model, in the model's order.
        oof: out-of-fold predictions standing for the model, one row per development row (NaN
            where none); None when the trial kept none.
        validation_score: the trial's own score (the mean over folds of a cross-validated one).
        retrained: the retraining summary for the model card. Defaults to `None`.
        selection: the greedy selection's candidates and scores. Defaults to `None`.
    """

    trial: FrozenTrial
    model: keras.Model
    kind: str
    members: list[dict[str, Any]]
    oof: np.ndarray | None
    validation_score: float | None
    retrained: dict[str, Any] | None = None
    selection: dict[str, Any] | None = None


def choose_model(
    spec: Spec,
    catalog: Catalog,
    *,
    number: int | None,
    storage: str | None,
    retrain: bool,
    verbose: int,
    ensemble: int | None = None,
) -> tuple[ExportedModel, Partition]:
    """The model to export (see the module docstring) and the study's data partition."""
    if ensemble is not None and (number is not None or retrain):
        raise ExportError(
            "--ensemble chooses its trials itself: it cannot be combined with --trial or "
            f"--single. Received: ensemble={ensemble}, trial={number}, single={retrain}"
        )
    study = open_study(spec, storage, create=False)
    partition = load_partition(spec, catalog)
    measured = measures_the_model(spec, catalog)
    if ensemble is not None:
        if measured:
            raise ExportError(
                f"--ensemble would multiply what {', '.join(measured)} measured of one model: "
                "export one trial (its configuration refit on all rows) instead"
            )
        return ensemble_model(spec, catalog, study, partition, ensemble), partition
    chosen = choose_trial(study, spec, number)
    # a study that measures the model (params, latency_ms, ...) chose one model of that size and
    # speed: K fold models averaged would be K times larger and slower, so it gets one refit
    if retrain or (measured and partition.cross_validated):
        return retrain_model(spec, catalog, chosen, partition, verbose), partition
    return tuned_model(spec, catalog, chosen, partition), partition


def choose_trial(study: optuna.Study, spec: Spec, number: int | None) -> FrozenTrial:
    """The best complete trial, or trial `number` (which must be complete); never one that
    violates `study.constraints`. A multi-objective study has no best trial: `number` must be
    given (the error lists the Pareto front to choose from)."""
    complete = ranked(study, spec.study.direction)
    if not complete:
        meeting = " that meets study.constraints" if spec.study.constraints else ""
        raise StudyError(
            f"study {spec.study.name!r} has no finished trial{meeting} to export yet: "
            "run `automl tune` first"
            + (" (or relax study.constraints)" if spec.study.constraints else "")
        )
    if number is None:
        if spec.study.multi_objective:
            raise StudyError(_choose_a_point(study, spec))
        return complete[0]
    trials = study.get_trials(deepcopy=False)
    for t in trials:
        if t.number == number:
            if t.state != TrialState.COMPLETE:
                raise StudyError(
                    f"trial {number} is {t.state.name.lower()}, not complete: it has no model"
                )
            if not is_feasible(t):
                why = t.user_attrs.get(INFEASIBLE_ATTR, "violates study.constraints")
                raise StudyError(f"trial {number} {why}: it is never chosen")
            return t
    raise StudyError(
        f"study {spec.study.name!r} has no trial {number}: expected a trial number from 0 to "
        f"{max(t.number for t in trials)}. Received: trial={number}"
    )


def _choose_a_point(study: optuna.Study, spec: Spec) -> str:
    """The error of an export without `--trial` on a multi-objective study: the front."""
    objectives = ", ".join(
        f"{m} ({d})" for m, d in zip(spec.study.metrics, spec.study.directions, strict=True)
    )
    front = "\n".join(
        f"  trial {t.number}: {format_values(dict(zip(spec.study.metrics, t.values, strict=True)))}"
        for t in pareto_front(study)
    )
    return (
        f"study {spec.study.name!r} has {len(spec.study.metrics)} objectives ({objectives}), "
        "so no single best trial: choose a point of its Pareto front with --trial N:\n" + front
    )


def fold_models(
    spec: Spec, catalog: Catalog, number: int, partition: Partition
) -> list[keras.Model]:
    """The models trial `number` trained on each fold (kept for the top trials only)."""
    paths = [checkpoint_path(spec, number, k) for k in range(len(partition.folds))]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise ExportError(
            f"the fold models of trial {number} are not on this machine ({missing[0]}); only the "
            f"top {spec.study.keep_checkpoints} trials keep them (study.keep_checkpoints)"
            f"{', and the Pareto front' if spec.study.multi_objective else ''}. "
            "Pass --single to train its configuration again on all rows instead."
        )
    packages = plugin_packages(catalog)
    return [load_keras_model(p, packages=packages) for p in paths]


def out_of_fold(spec: Spec, number: int, partition: Partition) -> np.ndarray | None:
    """Trial `number`'s out-of-fold predictions, or None when it kept none."""
    path = oof_path(spec, number)
    if not path.exists():
        return None
    oof = np.load(path, allow_pickle=False)
    if len(oof) != len(partition.x):
        raise ExportError(
            f"{path} has {len(oof)} rows but the study has {len(partition.x)} development rows: "
            "the data changed since tuning"
        )
    return oof


def tuned_model(
    spec: Spec, catalog: Catalog, chosen: FrozenTrial, partition: Partition
) -> ExportedModel:
    """The trial's own weights: its fold models averaged (one model for a hold-out split)."""
    models = fold_models(spec, catalog, chosen.number, partition)
    k = len(models)
    return ExportedModel(
        chosen,
        combine(models, [1.0 / k] * k),
        "bag" if partition.cross_validated else "trial",
        [{"trial": chosen.number, "fold": i, "weight": 1.0 / k} for i in range(k)],
        out_of_fold(spec, chosen.number, partition),
        _value(chosen),
    )


def ensemble_model(
    spec: Spec, catalog: Catalog, study: optuna.Study, partition: Partition, size: int
) -> ExportedModel:
    """Greedy ensemble selection over the top `size` trials' out-of-fold predictions."""
    if size < 1:
        raise ExportError(f"--ensemble needs at least 1 trial. Received: ensemble={size}")
    if spec.study.multi_objective:
        raise ExportError(
            "--ensemble selects on one metric, but the study has several objectives "
            f"({', '.join(spec.study.metrics)}): export a point of its Pareto front with --trial N"
        )
    top = ranked(study, spec.study.direction)[:size]
    if not top:
        choose_trial(study, spec, None)  # raises: no finished trial
    kept = [(t, out_of_fold(spec, t.number, partition)) for t in top]
    missing = [t.number for t, oof in kept if oof is None]
    if missing:
        raise ExportError(
            f"--ensemble {size}: trials {missing} of the top {size} kept no fold models and "
            f"out-of-fold predictions (study.keep_checkpoints is {spec.study.keep_checkpoints}). "
            f"Pass --ensemble {len(top) - len(missing)} or less, or tune with a larger "
            "study.keep_checkpoints"
        )
    library = [(t, oof) for t, oof in kept if oof is not None]
    # the pooled out-of-fold rows were trained on by the fold models together: every row
    metric = catalog["metric"].get(spec.study.metric).fitted(partition.development())
    counts, history = greedy_selection(
        [oof for _, oof in library], partition.y, metric, maximizes(spec.study.direction)
    )
    picked = [(t, c / sum(counts), oof) for (t, oof), c in zip(library, counts, strict=True) if c]
    models, members = [], []
    for trial, weight, _ in picked:
        fold_list = fold_models(spec, catalog, trial.number, partition)
        models += fold_list
        members += [
            {"trial": trial.number, "fold": k, "weight": weight / len(fold_list)}
            for k in range(len(fold_list))
        ]
    oof = np.sum([weight * o for _, weight, o in picked], axis=0)
    selection = {
        "candidates": [t.number for t, _ in library],
        "picks": {str(t.number): c for (t, _), c in zip(library, counts, strict=True) if c},
        "rounds": len(history),
        "scores": history,
    }
    best = picked[0][0]
    return ExportedModel(
        best,
        combine(models, [m["weight"] for m in members]),
        "ensemble",
        members,
        oof.astype("float32"),
        _value(best),
        selection=selection,
    )


def _value(trial: FrozenTrial) -> float | None:
    """The trial's (first) objective value."""
    return float(trial.values[0]) if trial.values else None


def retrain_model(
    spec: Spec, catalog: Catalog, chosen: FrozenTrial, partition: Partition, verbose: int = 0
) -> ExportedModel:
    """Train the configuration of `chosen` again on every development row (`--single`).

    The preprocessors are refit on those rows (`build_model` fits them on the train part of the
    splits it is given). There is no early stopping: the epoch count is the trial's best epoch
    (the mean over its folds).
    """
    config = trial_config(chosen)
    epochs = int(
        chosen.user_attrs.get("best_epoch")
        or chosen.user_attrs.get("epochs")
        or configured_epochs(config)
    )
    rows = partition.development()
    started = time.perf_counter()
    model, _, callbacks = compile_model(config, rows, catalog, trial_seed(spec, chosen.number))
    history = fit_model(model, config, spec, rows, epochs, callbacks, verbose)
    losses = history.history.get("loss", [])
    if losses and not np.isfinite(losses[-1]):
        raise ExportError(
            f"retraining trial {chosen.number} diverged: the loss became {losses[-1]}"
        )
    summary = {
        "epochs": epochs,
        "train_rows": len(rows.x_train),
        "seconds": round(time.perf_counter() - started, 3),
        "final_loss": float(losses[-1]) if losses else None,
    }
    # the refit model has seen every development row: the trial's own scores stand for it
    return ExportedModel(
        chosen,
        model,
        "single",
        [{"trial": chosen.number, "fold": None, "weight": 1.0}],
        out_of_fold(spec, chosen.number, partition),
        _value(chosen),
        retrained=summary,
    )
