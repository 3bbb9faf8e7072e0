"""The objective: every fold of a trial, its pruning, its records, the kept fold models and OOF."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from optuna.trial import FrozenTrial, TrialState
from sklearn.metrics import accuracy_score

from automl.data import load_partition
from automl.spec import load_spec
from automl.storage import checkpoint_path, oof_path, open_study
from automl.study import tune

IRIS = """
study: {{name: obj, metric: accuracy, trials: {trials}, seed: 0, sampler: random,
         pruner: {pruner}, keep_checkpoints: 1}}
data: {{source: {{sklearn: {{name: iris}}}}, folds: 1}}
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


CV = """
study: {{name: cv, metric: accuracy, trials: {trials}, seed: 0, sampler: random,
        pruner: {pruner}, keep_checkpoints: 1}}
data: {{source: {{sklearn: {{name: iris}}}}, folds: 3}}
training: {{epochs: 4, batch_size: 16, early_stopping: false}}
model: {{mlp: {{layers: 1, units: 16}}}}
optimizer: {{adam: {{learning_rate: {{low: 1.0e-6, high: 0.1, log: true}}}}}}
"""
EPOCHS = 4


def test_fold_scores_average_and_out_of_fold_predictions_line_up_with_rows(
    write_space, catalog
) -> None:
    result = tune(write_space(CV.format(trials=1, pruner="none")), progress=False)
    (trial,) = result.study.trials
    spec = result.spec
    partition = load_partition(spec, catalog)
    oof = np.load(oof_path(spec, trial.number))
    assert oof.shape == (len(partition.x), 3)  # one row per development row, 3 classes
    scores = []
    for k, (_, val) in enumerate(partition.folds):
        model = keras.saving.load_model(checkpoint_path(spec, trial.number, k))
        expected = model.predict(partition.x[val], verbose=0)  # Keras' own predict of fold k
        np.testing.assert_allclose(oof[val], expected, atol=1e-5)
        scores.append(accuracy_score(partition.y[val], expected.argmax(axis=1)))
    assert trial.user_attrs["fold_scores"] == pytest.approx(scores)
    assert trial.value == pytest.approx(np.mean(scores))
    assert result.leaderboard[0]["std"] == pytest.approx(np.std(scores))
    # the pruner saw the first fold's epochs, then the running mean after each fold
    steps = trial.intermediate_values
    assert sorted(steps) == [0, 1, 2, 3, EPOCHS, EPOCHS + 1, EPOCHS + 2]
    assert steps[EPOCHS - 1] == pytest.approx(scores[0])  # no early stopping: the last epoch
    means = [np.mean(scores[: k + 1]) for k in range(3)]
    assert [steps[EPOCHS + k] for k in range(3)] == pytest.approx(means)
    assert trial.user_attrs["fold_epochs"] == [EPOCHS] * 3


def test_later_folds_train_the_epochs_the_first_fold_stopped_at(write_space) -> None:
    text = CV.format(trials=1, pruner="none").replace("false", "{patience: 1}")
    (trial,) = tune(write_space(text), progress=False).study.trials
    scores = trial.user_attrs["history"]["score"]  # the first fold's epochs
    best = int(np.argmax(scores)) + 1
    assert trial.user_attrs["fold_epochs"] == [len(scores), best, best]


def _enqueued(space: Path, *learning_rates: float) -> None:
    study = open_study(load_spec(space))
    for lr in learning_rates:
        study.enqueue_trial({"optimizer.adam.learning_rate": lr})


def test_a_bad_trial_is_pruned_during_its_first_fold(write_space, runs_dir: Path) -> None:
    pruner = "{median: {n_startup_trials: 1, n_warmup_steps: 1}}"
    space = write_space(CV.format(trials=2, pruner=pruner))
    _enqueued(space, 0.05, 1e-6)  # a good trial, then one that cannot learn in 4 epochs
    good, bad = tune(space, progress=False).study.trials
    assert good.state == TrialState.COMPLETE
    assert bad.state == TrialState.PRUNED
    assert bad.user_attrs["pruned_reason"] == "pruned at epoch 2 of fold 1 of 3"
    assert sorted(bad.intermediate_values) == [0, 1]  # it never reached a second fold
    assert bad.user_attrs["epochs"] == 2
    assert sorted(p.name for p in (runs_dir / "cv" / "trials").iterdir()) == ["00000"]


def test_after_a_fold_only_trials_in_the_top_quarter_go_on(write_space) -> None:
    # the median pruner waits for 5 complete trials: it prunes nothing here; the fold rule
    # compares with the keep_checkpoints (1) complete trials at once
    space = write_space(CV.format(trials=2, pruner="median"))
    _enqueued(space, 0.05, 1e-6)
    good, bad = tune(space, progress=False).study.trials
    assert good.state == TrialState.COMPLETE
    assert bad.state == TrialState.PRUNED
    assert sorted(bad.intermediate_values) == [0, 1, 2, 3, EPOCHS]  # one whole fold
    assert bad.intermediate_values[EPOCHS] < good.intermediate_values[EPOCHS]
    assert bad.user_attrs["pruned_reason"].startswith("pruned after fold 1 of 3: mean accuracy")


def test_a_trial_is_pruned_by_the_mean_after_a_fold(write_space) -> None:
    # accuracy is below 2.0: no pruning during the warm-up (the first fold's epochs), then
    # pruned at the first fold mean
    pruner = f"{{threshold: {{lower: 2.0, n_warmup_steps: {EPOCHS}}}}}"
    (trial,) = tune(write_space(CV.format(trials=1, pruner=pruner)), progress=False).study.trials
    assert trial.state == TrialState.PRUNED
    fold_1 = trial.intermediate_values[EPOCHS]
    assert (
        trial.user_attrs["pruned_reason"] == f"pruned after fold 1 of 3: mean accuracy {fold_1:.4f}"
    )
    assert sorted(trial.intermediate_values) == [0, 1, 2, 3, EPOCHS]
    assert trial.user_attrs["epochs"] == EPOCHS


def test_the_first_trial_of_a_new_study_is_the_defaults(write_space) -> None:
    def space(trials: int) -> Path:  # one split: this is not about folds
        return write_space(CV.format(trials=trials, pruner="none").replace("folds: 3", "folds: 1"))

    first, second = tune(space(2), progress=False).study.trials
    # mlp's declared dropout (0, searched by default); adam's declared learning rate (1e-3) is
    # inside the file's range [1e-6, 0.1]
    assert first.params == {"model.mlp.dropout": 0.0, "optimizer.adam.learning_rate": 0.001}
    assert first.user_attrs["defaults"] is True
    assert "defaults" not in second.user_attrs
    # resuming does not enqueue them again
    again = tune(space(3), progress=False)
    assert sum(t.user_attrs.get("defaults", False) for t in again.study.trials) == 1


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
        assert set(trial.user_attrs) - {"defaults"} == {
            "config",
            "history",
            "epochs",
            "best_epoch",
            "fold_scores",
            "fold_epochs",
            "train_seconds",
            "worker",
        }
        assert trial.constraints == {}
        assert sorted(trial.intermediate_values) == [0, 1, 2]
        assert trial.value == trial.user_attrs["history"]["score"][-1]  # no early stopping
    header = format_leaderboard(result.leaderboard, result.spec.study.metrics).splitlines()[0]
    assert header.split() == ["rank", "trial", "accuracy", "state", "epochs", "time", "parameters"]
    assert [r["rank"] for r in result.leaderboard] == [1, 2]
