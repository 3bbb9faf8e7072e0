"""Which trial to export and its Keras model: the tuned checkpoint, or the configuration retrained.

The study-side helpers (opening the study, ranking its trials, the data split, checkpoint paths:
`automl.storage`, `automl.leaderboard`, `automl.objective`) are imported here and nowhere else in
the package.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.custom_objects import plugin_packages
from automl.data import Splits, load_splits
from automl.errors import ExportError, StudyError
from automl.export._config import configured_epochs, trial_config
from automl.leaderboard import INFEASIBLE_ATTR, format_values, pareto_front, ranked
from automl.measures import MEASURE_ROWS, metric_values
from automl.model_files import load_keras_model
from automl.pareto import is_feasible
from automl.plugins import Catalog
from automl.spec import Spec
from automl.storage import checkpoint_path, open_study
from automl.streaming import concat_rows
from automl.trial import as_float_inputs, compile_model, fit_model, predict_output, trial_seed


@dataclass(frozen=True)
class ExportedModel:
    """The Keras model to export and where it came from.

    Args:
        trial: the trial whose configuration (and weights, unless retrained) the model has.
        model: the Keras model, preprocessing layers included.
        validation_score: the metric on the validation split; for a retrained model the tuned
            trial's own score (the retrained model has seen the validation split).
        retrained: the retraining summary for the model card. Defaults to `None` (the trial's
            own weights).
    """

    trial: FrozenTrial
    model: keras.Model
    validation_score: float | None
    retrained: dict[str, Any] | None = None


def choose_model(
    spec: Spec,
    catalog: Catalog,
    *,
    number: int | None,
    storage: str | None,
    retrain: bool,
    verbose: int,
) -> tuple[ExportedModel, Splits]:
    """The trial to export (the best, or `number`), its model and the study's data splits."""
    chosen = choose_trial(open_study(spec, storage, create=False), spec, number)
    splits = load_splits(spec, catalog)
    if retrain:
        return retrain_model(spec, catalog, chosen, splits, verbose), splits
    return tuned_model(spec, catalog, chosen, splits), splits


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


def tuned_model(spec: Spec, catalog: Catalog, chosen: FrozenTrial, splits: Splits) -> ExportedModel:
    """The trial's own weights from its checkpoint, scored again on the validation split."""
    ckpt = checkpoint_path(spec, chosen.number)
    if not ckpt.exists():
        raise ExportError(
            f"the checkpoint of trial {chosen.number} is not on this machine ({ckpt}); only the "
            f"top {spec.study.keep_checkpoints} trials keep one (study.keep_checkpoints)"
            f"{', and the Pareto front' if spec.study.multi_objective else ''}. "
            "Pass --retrain to train its configuration again instead."
        )
    model = load_keras_model(ckpt, packages=plugin_packages(catalog))
    values = metric_values(
        (spec.study.metric,),
        catalog,
        model,
        splits.y_val,
        predictions=lambda: predict_output(model, splits.x_val, splits.task),
        rows=as_float_inputs(splits.x_val[:MEASURE_ROWS]),
        splits=splits,
    )
    return ExportedModel(chosen, model, values[spec.study.metric])


def retrain_model(
    spec: Spec, catalog: Catalog, chosen: FrozenTrial, splits: Splits, verbose: int = 0
) -> ExportedModel:
    """Train the configuration of `chosen` again on train + validation for its best epoch count.

    The preprocessors are refit on train + validation (`build_model` fits them on the train part
    of the splits it is given). There is no early stopping: the epoch count is the one at which
    the trial scored best on validation.
    """
    config = trial_config(chosen)
    epochs = int(
        chosen.user_attrs.get("best_epoch")
        or chosen.user_attrs.get("epochs")
        or configured_epochs(config)
    )
    merged = dataclasses.replace(
        splits,
        x_train=concat_rows(splits.x_train, splits.x_val),
        y_train=np.concatenate([splits.y_train, splits.y_val]),
    )
    started = time.perf_counter()
    model, _, callbacks = compile_model(config, merged, catalog, trial_seed(spec, chosen.number))
    history = fit_model(model, config, spec, merged, epochs, callbacks, verbose)
    losses = history.history.get("loss", [])
    if losses and not np.isfinite(losses[-1]):
        raise ExportError(
            f"retraining trial {chosen.number} diverged: the loss became {losses[-1]}"
        )
    summary = {
        "epochs": epochs,
        "train_rows": len(merged.x_train),
        "seconds": round(time.perf_counter() - started, 3),
        "final_loss": float(losses[-1]) if losses else None,
    }
    # the retrained model has seen the validation split: its validation score would flatter it
    score = float(chosen.values[0]) if chosen.values else None
    return ExportedModel(chosen, model, score, retrained=summary)
