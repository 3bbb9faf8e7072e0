"""The objective records each trial's history (pruned trials too) and keeps the best checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna.trial import FrozenTrial, TrialState

from automl.spec import load_spec
from automl.storage import checkpoint_path, open_study
from automl.study import tune

IRIS = """
study: {{name: obj, metric: accuracy, trials: {trials}, seed: 0, sampler: random,
         pruner: {pruner}, keep_checkpoints: 1}}
data: {{source: {{sklearn: {{name: iris}}}}}}
training: {{epochs: 3, batch_size: 32, early_stopping: false}}
model:
  mlp: {{layers: 1, units: {{low: 4, high: 32}}}}
optimizer:
  adam: {{learning_rate: {{low: 0.001, high: 0.1, log: true}}}}
"""


def _check_history(trial: FrozenTrial, epochs: int) -> None:
    """One float per epoch run; the scores are the values reported to Optuna."""
    history = trial.user_attrs["history"]
    assert sorted(history) == ["loss", "score", "val_loss"]
    assert all(len(values) == epochs for values in history.values())
    assert all(isinstance(v, float) for values in history.values() for v in values)
    reported = [trial.intermediate_values[step] for step in sorted(trial.intermediate_values)]
    assert history["score"] == pytest.approx(reported)
    assert trial.user_attrs["epochs"] == epochs


def test_history_of_complete_trials_and_only_the_best_checkpoint_kept(
    write_space, runs_dir: Path
) -> None:
    result = tune(write_space(IRIS.format(trials=3, pruner="none")), progress=False)
    trials = result.study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    for trial in trials:
        _check_history(trial, epochs=3)
    best = result.best_trial
    assert best is not None and best.value == max(t.value for t in trials)  # type: ignore[type-var]
    kept = sorted(p.name for p in (runs_dir / "obj" / "trials").iterdir())
    assert kept == [f"{best.number:05d}"]  # keep_checkpoints: 1
    assert checkpoint_path(result.spec, best.number).exists()


def test_a_pruned_trial_keeps_the_history_of_the_epochs_it_ran(write_space) -> None:
    # an accuracy is always below 2.0: pruned at the first step after the 2 warm-up steps
    pruner = "{threshold: {lower: 2.0, n_warmup_steps: 2}}"
    result = tune(write_space(IRIS.format(trials=1, pruner=pruner)), progress=False)
    (trial,) = result.study.trials
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["pruned_reason"] == "pruned at epoch 3"
    _check_history(trial, epochs=3)


MEDIAN = """
study: {name: median, metric: accuracy, trials: 2, seed: 0, sampler: random,
        pruner: {median: {n_startup_trials: 1, n_warmup_steps: 1}}}
data: {source: {sklearn: {name: iris}}, folds: 1}
training: {epochs: 6, batch_size: 16, early_stopping: false}
model: {mlp: {layers: 1, units: 16}}
optimizer: {adam: {learning_rate: {low: 1.0e-7, high: 0.1, log: true}}}
"""


def test_the_median_pruner_prunes_a_trial_behind_the_median(write_space) -> None:
    """The default pruner at work: a trial that learns nothing (learning rate 1e-7) is behind
    the first trial's score at epoch 2 (after the warm-up step) and is pruned there."""
    path = write_space(MEDIAN)
    study = open_study(load_spec(path))
    study.enqueue_trial({"optimizer.adam.learning_rate": 0.05})
    study.enqueue_trial({"optimizer.adam.learning_rate": 1.0e-7})
    good, bad = tune(path, progress=False).study.trials
    assert good.state == TrialState.COMPLETE
    _check_history(good, epochs=6)
    assert bad.state == TrialState.PRUNED
    assert bad.user_attrs["pruned_reason"] == "pruned at epoch 2"
    _check_history(bad, epochs=2)
    assert bad.intermediate_values[1] < good.intermediate_values[1]


LINE_PLUGIN = """
import numpy as np
from automl import hookimpl
from automl.components import BaseDataSource
from automl.data import Dataset


class Line(BaseDataSource):
    name = "line"
    help = "y = 1.5 x: a regression that the source does not announce before loading."

    def load(self, **params):
        x = np.linspace(0.0, 1.0, 40, dtype="float32").reshape(-1, 1)
        return Dataset(x=x, y=1.5 * x[:, 0])


@hookimpl
def register_data_sources(register):
    register(Line())
"""


def test_components_that_do_not_fit_the_task_found_in_the_data(write_space, tmp_path: Path) -> None:
    from automl.data import load_splits
    from automl.errors import AutoMLError
    from automl.spec import open_space

    (tmp_path / "line_plugin.py").write_text(LINE_PLUGIN)
    spec, catalog = open_space(
        write_space(
            """
            plugins: [line_plugin.py]
            study: {metric: accuracy}
            data: {source: line}
            model: {mlp: {}}
            loss: mse
            """
        )
    )
    assert spec.data.task is None  # the source does not say: the data does
    with pytest.raises(
        AutoMLError,
        match=r"^study\.metric: 'accuracy' does not fit the regression task found in the data "
        r"\(it fits: binary, multiclass\)$",
    ):
        load_splits(spec, catalog)


def test_a_single_metric_study_records_what_it_did_before(write_space) -> None:
    """One metric: one value per trial, reported every epoch for the pruner, no constraints,
    no extra attributes; the metric's name is the study's (optuna-dashboard shows it)."""
    from automl.leaderboard import format_leaderboard

    result = tune(write_space(IRIS.format(trials=2, pruner="median")), progress=False)
    study = result.study
    assert [d.name for d in study.directions] == ["MAXIMIZE"]
    assert study.metric_names == ["accuracy"]
    assert type(study.pruner).__name__ == "MedianPruner"
    for trial in study.trials:
        assert set(trial.user_attrs) == {
            "config",
            "history",
            "epochs",
            "best_epoch",
            "train_seconds",
            "worker",
        }
        assert trial.constraints == {}
        assert sorted(trial.intermediate_values) == [0, 1, 2]
        assert trial.value == trial.user_attrs["history"]["score"][-1]  # no early stopping
    header = format_leaderboard(result.leaderboard, result.spec.study.metrics).splitlines()[0]
    assert header.split() == ["rank", "trial", "accuracy", "state", "epochs", "time", "parameters"]
    assert [r["rank"] for r in result.leaderboard] == [1, 2]
