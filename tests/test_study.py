"""End to end: tune on a slice of digits, resume, refuse a changed space, survive failing trials."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from optuna.trial import TrialState

from automl.errors import StudyError
from automl.parallel import counted_trials
from automl.storage import checkpoint_path
from automl.study import tune, worker_seed_offset

DIGITS = """
study: {name: e2e, metric: accuracy, trials: 2, seed: 0, sampler: random}
data:
  source: {sklearn: {name: digits}}
  folds: 1
  limit: 300
training: {epochs: 1, batch_size: 32}
preprocessors: [min_max]
model:
  cnn: {blocks: 1, filters: 8, dense_units: 16}
optimizer: adam
"""

BROKEN_PLUGIN = """
from automl import hookimpl
from automl.components import BaseModelFamily


class Broken(BaseModelFamily):
    name = "broken"
    help = "Always raises while building."

    def build(self, inputs, ctx, **params):
        raise RuntimeError("this combination cannot be built")


@hookimpl
def register_model_families(register):
    register(Broken())
"""

INTERRUPT_PLUGIN = """
from automl import hookimpl


@hookimpl
def on_epoch_end(trial, epoch, logs):
    if trial.number == 1:
        raise KeyboardInterrupt
"""


def test_tune_end_to_end_ranks_and_keeps_checkpoints(write_space, runs_dir: Path) -> None:
    path = write_space(DIGITS)
    result = tune(path, progress=False)
    trials = result.study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert all(0.0 <= t.value <= 1.0 for t in trials)  # type: ignore[operator]
    assert (runs_dir / "e2e" / "journal.log").exists()
    assert [row["trial"] for row in result.leaderboard] == [
        t.number
        for t in sorted(trials, key=lambda t: -t.value)  # type: ignore[operator]
    ]
    best = result.best_trial
    assert best is not None and checkpoint_path(result.spec, best.number).exists()
    config = best.user_attrs["config"]
    assert config["model"]["name"] == "cnn"
    assert best.user_attrs["epochs"] == 1
    # the score is the metric on the validation split, recomputed from the kept model
    import keras

    from automl.data import load_splits
    from automl.trial import predict_output

    splits = load_splits(result.spec, result.catalog)
    model = keras.saving.load_model(checkpoint_path(result.spec, best.number))
    labels = np.argmax(predict_output(model, splits.x_val, splits.task), axis=1)
    assert best.value == pytest.approx(float(np.mean(labels == splits.y_val)))


@pytest.mark.slow
def test_resume_keeps_finished_trials(write_space) -> None:
    path = write_space(DIGITS)
    first = tune(path, trials=1, progress=False)
    first_value = first.study.trials[0].value
    second = tune(path, trials=3, progress=False)
    trials = second.study.trials
    assert len(trials) == 3
    assert trials[0].value == first_value
    # the resumed run samples anew: it does not replay the first run's parameters
    assert trials[1].params != trials[0].params
    assert trials[2].params != trials[0].params
    assert trials[2].params != trials[1].params
    third = tune(path, trials=3, progress=False)  # budget spent: nothing runs
    assert len(third.study.trials) == 3


def test_changed_space_is_refused(write_space) -> None:
    path = write_space(DIGITS)
    tune(path, trials=1, progress=False)
    path.write_text(path.read_text().replace("filters: 8", "filters: 12"))
    with pytest.raises(
        StudyError, match=r"changed since it began:\n  - slots\.model\.cnn\.filters: was 8, now 12"
    ):
        tune(path, trials=2, progress=False)


def test_failing_trial_is_recorded_and_study_goes_on(write_space, tmp_path: Path) -> None:
    (tmp_path / "broken_plugin.py").write_text(BROKEN_PLUGIN)
    text = (
        DIGITS.replace("sampler: random", "sampler: grid")
        .replace("optimizer: adam", "optimizer: {adam: {learning_rate: 0.001}}")
        .replace(
            "model:\n  cnn: {",
            "plugins: [broken_plugin.py]\nmodel:\n  broken: {}\n"
            "  cnn: {dropout: 0.0, kernel_size: 3, pooling: max, ",
        )
    )
    result = tune(write_space(text), trials=2, progress=False)
    states = {t.params["model"]: t for t in result.study.trials}
    assert states["cnn"].state == TrialState.COMPLETE
    failed = states["broken"]
    assert failed.state == TrialState.FAIL
    assert (
        "model family 'broken' (plugin 'broken_plugin.py') raised RuntimeError"
        in failed.user_attrs["fail_reason"]
    )
    assert result.leaderboard[-1]["state"] == "fail"


def test_nan_loss_fails_the_trial(write_space) -> None:
    text = DIGITS.replace(
        "optimizer: adam", "optimizer: {sgd: {learning_rate: 1.0e+30, momentum: 0.0}}"
    )
    result = tune(write_space(text), trials=1, progress=False)
    (trial,) = result.study.trials
    assert trial.state == TrialState.FAIL
    assert "NaN" in trial.user_attrs["fail_reason"]


@pytest.mark.slow
def test_interrupt_marks_trial_and_resume_completes(write_space, tmp_path: Path) -> None:
    (tmp_path / "interrupt_plugin.py").write_text(INTERRUPT_PLUGIN)
    path = write_space(DIGITS.replace("model:", "plugins: [interrupt_plugin.py]\nmodel:"))
    result = tune(path, trials=3, progress=False)
    assert result.interrupted
    states = [t.state for t in result.study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL]
    assert result.study.trials[1].user_attrs["interrupted"] is True
    assert len(counted_trials(result.study)) == 1  # the interrupted trial does not use budget
    # the next run (without the interrupting plugin) resumes up to the budget
    path.write_text(DIGITS)
    resumed = tune(path, trials=3, progress=False)
    assert not resumed.interrupted
    assert len(counted_trials(resumed.study)) == 3


@pytest.mark.slow  # three CLI processes, each importing TensorFlow
def test_cli_tune_trials_and_export(write_space, tmp_path: Path) -> None:
    path = write_space(DIGITS)
    env_cmd = [sys.executable, "-m", "automl.cli"]
    tuned = subprocess.run(
        [*env_cmd, "tune", str(path), "--no-progress"], capture_output=True, text=True
    )
    assert tuned.returncode == 0, tuned.stderr
    assert "rank  trial  accuracy  state" in tuned.stdout
    listed = subprocess.run(
        [*env_cmd, "trials", str(path), "--json", "--top", "1"], capture_output=True, text=True
    )
    rows = json.loads(listed.stdout)
    assert len(rows) == 1 and rows[0]["rank"] == 1
    out = tmp_path / "artifact"
    exported = subprocess.run(
        [*env_cmd, "export", str(path), "--out", str(out)], capture_output=True, text=True
    )
    assert exported.returncode == 0, exported.stderr
    card = json.loads((out / "model.json").read_text())
    assert card["trial"] == rows[0]["trial"]
    assert card["validation_score"] == pytest.approx(rows[0]["score"])
    assert card["class_labels"] == [str(i) for i in range(10)]
    # the exported model takes raw inputs and reloads with the same predictions
    import keras

    from automl.data import load_splits
    from automl.spec import open_space

    spec, catalog = open_space(path)
    splits = load_splits(spec, catalog)
    reloaded = keras.saving.load_model(out / "model.keras")
    original = keras.saving.load_model(checkpoint_path(spec, card["trial"]))
    np.testing.assert_allclose(
        reloaded.predict(splits.x_test, verbose=0),
        original.predict(splits.x_test, verbose=0),
        atol=1e-6,
    )


@pytest.mark.parametrize("name", ["digits_cnn", "digits_mlp", "diabetes_mlp"])
def test_shipped_issue2_spaces_run(name: str, tmp_path: Path) -> None:
    import yaml

    from automl.spec import load_spec

    data = yaml.safe_load(
        (Path(__file__).parents[1] / "search_spaces" / f"{name}.yaml").read_text()
    )
    data["training"]["epochs"] = 1
    data["data"]["limit"] = 200
    data["data"]["folds"] = 1  # one split keeps the suite fast (folds: tests/test_objective.py)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    result = tune(load_spec(path), trials=1, progress=False)
    (trial,) = result.study.trials
    assert trial.state == TrialState.COMPLETE, trial.user_attrs.get("fail_reason")


def test_worker_seed_offsets_differ_by_index_and_by_host_on_a_database() -> None:
    import socket
    import zlib

    assert worker_seed_offset(0, None) == 0
    assert worker_seed_offset(3, "runs/x/journal.log") == 3000
    assert worker_seed_offset(2, "sqlite:///x.db") == 2000  # one machine: no host offset
    host = 1_000_000 * (zlib.crc32(socket.gethostname().encode()) % 1000)
    assert worker_seed_offset(2, "postgresql://db/x") == 2000 + host
