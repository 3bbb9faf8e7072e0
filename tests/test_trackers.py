"""The TensorBoard and MLflow tracker plugins (`automl_plugins.*_tracker`), end to end.

Real tiny studies (iris, an MLP with a searched `units` range) run with the tracker enabled, and
what it wrote is read back with the libraries' own readers: TensorBoard's `EventAccumulator` and
MLflow's `MlflowClient`, compared with the Optuna trials of the study.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import automl
from automl import PluginError

TB = "automl_plugins.tensorboard_tracker"
MLFLOW = "automl_plugins.mlflow_tracker"

SPACE = """
study: {{name: {name}, metric: accuracy, trials: 3, pruner: none, seed: 0}}
data: {{source: {{sklearn: {{name: iris}}}}, folds: 1}}
training: {{epochs: {epochs}, batch_size: 16, early_stopping: false}}
preprocessors: [standardize]
model: {{mlp: {{layers: 1, units: {{low: 4, high: 16}}, dropout: 0.0}}}}
optimizer: {{adam: {{learning_rate: {{low: 0.01, high: 0.1, log: true}}}}}}
"""

# fails trial 0 and prunes trial 1 as they start, each with a reason; trial 2 completes
FAIL_AND_PRUNE = """
import optuna
from automl import hookimpl


@hookimpl
def on_trial_start(trial, config):
    if trial.number == 0:
        raise ValueError("boom")
    if trial.number == 1:
        raise optuna.TrialPruned("enough")
"""


def tune(path: Path, plugins: tuple[str, ...], trials: int = 3) -> Any:
    """`automl.tune` without a progress bar: the result with its Optuna study."""
    return automl.tune(path, trials=trials, plugins=plugins, progress=False)


# ------------------------------------------------------------------------------ TensorBoard
def tensors(folder: Path) -> Any:
    """TensorBoard's reader over one run folder, every event kept."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def series(accumulator: Any, tag: str) -> list[tuple[int, Any]]:
    """(step, value) of every event of `tag`."""
    from tensorboard.util import tensor_util

    return [
        (e.step, tensor_util.make_ndarray(e.tensor_proto).item()) for e in accumulator.Tensors(tag)
    ]


def session_hparams(accumulator: Any) -> tuple[str, dict[str, Any]]:
    """The HParams session of a trial's run: its group name and hparam values."""
    from tensorboard.plugins.hparams import metadata

    content = accumulator.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
    info = metadata.parse_session_start_info_plugin_data(content)
    values = {name: getattr(v, v.WhichOneof("kind")) for name, v in info.hparams.items()}
    return info.group_name, values


@pytest.mark.slow
def test_tensorboard_writes_epoch_scalars_and_hparams_per_trial(
    write_space: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOML_TENSORBOARD_DIR", str(tmp_path / "tb"))
    result = tune(write_space(SPACE.format(name="tb-e2e", epochs=3)), (TB,))
    trials = result.study.trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    root = tmp_path / "tb" / "tb-e2e"
    assert sorted(p.name for p in root.glob("trial-*")) == ["trial-0", "trial-1", "trial-2"]
    for trial in trials:
        run = tensors(root / f"trial-{trial.number}")
        # every epoch's score is the value the trial reported to Optuna (float32 in TensorBoard)
        expected = [(step, np.float32(v)) for step, v in sorted(trial.intermediate_values.items())]
        assert series(run, "score") == expected and len(expected) == 3
        assert [step for step, _ in series(run, "loss")] == [0, 1, 2]
        assert [step for step, _ in series(run, "val_loss")] == [0, 1, 2]
        assert series(run, "final/accuracy") == [(2, np.float32(trial.value))]
        group, hparams = session_hparams(run)
        assert group == f"trial-{trial.number}"
        assert hparams == {**trial.params, "state": "complete"}
        (config_text,) = (v for _, v in series(run, "config"))
        lines = config_text.decode().splitlines()
        assert json.loads("\n".join(line[4:] for line in lines)) == trial.user_attrs["config"]
    # the study's experiment: each parameter with its domain, the metric by its tag
    from tensorboard.plugins.hparams import metadata

    study_run = tensors(root)
    content = study_run.SummaryMetadata(metadata.EXPERIMENT_TAG).plugin_data.content
    experiment = metadata.parse_experiment_plugin_data(content)
    infos = {info.name: info for info in experiment.hparam_infos}
    assert set(infos) == {"model.mlp.units", "optimizer.adam.learning_rate", "state"}
    units = infos["model.mlp.units"].domain_interval
    assert (units.min_value, units.max_value) == (4, 16)
    assert experiment.metric_infos[0].name.tag == "final/accuracy"
    assert experiment.metric_infos[0].display_name == "accuracy"


def test_tensorboard_log_dir_defaults_to_the_study_folder(
    runs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl_plugins import tensorboard_tracker

    monkeypatch.delenv("AUTOML_TENSORBOARD_DIR", raising=False)
    assert tensorboard_tracker.trial_log_dir("s", 3) == runs_dir / "s" / "tensorboard" / "trial-3"
    monkeypatch.setenv("AUTOML_TENSORBOARD_DIR", str(tmp_path / "tb"))
    assert tensorboard_tracker.trial_log_dir("s", 3) == tmp_path / "tb" / "s" / "trial-3"


# ----------------------------------------------------------------------------------- MLflow
def mlflow_runs(study_name: str) -> tuple[Any, Any, dict[int, Any]]:
    """The client, the study's parent run and its child runs by trial number."""
    from mlflow.tracking import MlflowClient

    from automl_plugins.mlflow_tracker import tracking_uri

    client = MlflowClient(tracking_uri=tracking_uri())
    experiment = client.get_experiment_by_name(study_name)
    assert experiment is not None, f"no MLflow experiment {study_name!r}"
    ids = [experiment.experiment_id]
    (parent,) = client.search_runs(ids, filter_string=f"tags.`automl.study` = '{study_name}'")
    children = client.search_runs(
        ids, filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    by_trial = {int(run.data.tags["automl.trial"]): run for run in children}
    assert len(by_trial) == len(children)
    return client, parent, by_trial


@pytest.mark.slow
def test_mlflow_one_parent_run_and_a_nested_run_per_trial_across_a_resume(
    write_space: Callable[..., Path], runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.artifacts

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    path = write_space(SPACE.format(name="mlflow-e2e", epochs=2))
    tune(path, (MLFLOW,), trials=2)
    assert (runs_dir / "mlruns" / "mlflow.db").is_file()
    # resume in another process, from the command line: the parent run is found by its tag
    automl_cli = Path(sys.executable).with_name("automl")
    command = [str(automl_cli), "tune", str(path), "--trials", "3", "--plugin", MLFLOW]
    done = subprocess.run(command, capture_output=True, text=True, cwd=path.parent, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    trials = tune(path, (MLFLOW,), trials=3).study.trials  # budget spent: reads the study only
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3

    client, parent, children = mlflow_runs("mlflow-e2e")
    assert sorted(children) == [0, 1, 2]
    for trial in trials:
        run = children[trial.number]
        assert run.info.run_name == f"trial-{trial.number}"
        assert run.info.status == "FINISHED"
        assert run.data.params == {name: str(value) for name, value in trial.params.items()}
        assert run.data.metrics["accuracy"] == trial.value
        assert run.data.tags["automl.state"] == "complete"
        history = client.get_metric_history(run.info.run_id, "score")
        assert [(m.step, m.value) for m in history] == sorted(trial.intermediate_values.items())
        assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [0, 1]
        config = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/config.json")
        assert config == trial.user_attrs["config"]
    best = max(trials, key=lambda t: t.value)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["best_accuracy"] == best.value
    assert parent.data.tags["automl.best_trial"] == str(best.number)
    assert parent.data.tags["automl.metric"] == "accuracy"


def test_mlflow_tracking_uri_defaults_to_a_sqlite_store_under_runs(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl_plugins.mlflow_tracker import tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri() == f"sqlite:///{(runs_dir / 'mlruns' / 'mlflow.db').resolve()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri() == "http://127.0.0.1:5000"


# ------------------------------------------------------------------------ states and failures
@pytest.mark.slow
def test_failed_and_pruned_trials_are_tracked_with_their_state_and_reason(
    write_space: Callable[..., Path],
    tmp_path: Path,
    runs_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("AUTOML_TENSORBOARD_DIR", raising=False)
    (tmp_path / "fail_and_prune.py").write_text(FAIL_AND_PRUNE)
    path = write_space(SPACE.format(name="states", epochs=1))
    # registered last, so it is called first: the trackers never see trials 0 and 1 start
    plugins = (TB, MLFLOW, str(tmp_path / "fail_and_prune.py"))
    trials = tune(path, plugins).study.trials
    assert [t.state.name for t in trials] == ["FAIL", "PRUNED", "COMPLETE"]

    _, _, children = mlflow_runs("states")
    failed, pruned, complete = (children[n] for n in (0, 1, 2))
    assert (failed.info.status, failed.data.tags["automl.state"]) == ("FAILED", "fail")
    assert "raised in on_trial_start: ValueError: boom" in failed.data.tags["automl.reason"]
    assert (pruned.info.status, pruned.data.tags["automl.state"]) == ("KILLED", "pruned")
    assert pruned.data.tags["automl.reason"] == "enough"
    assert "accuracy" not in failed.data.metrics and "accuracy" not in pruned.data.metrics
    assert complete.data.metrics["accuracy"] == trials[2].value
    for trial in trials:  # sampled before on_trial_start, so every trial has its parameters
        assert children[trial.number].data.params == {k: str(v) for k, v in trial.params.items()}

    root = runs_dir / "states" / "tensorboard"
    for trial, state in zip(trials, ("fail", "pruned", "complete"), strict=True):
        group, hparams = session_hparams(tensors(root / f"trial-{trial.number}"))
        assert (group, hparams) == (f"trial-{trial.number}", {**trial.params, "state": state})


@pytest.mark.slow
def test_a_broken_tracker_store_warns_and_never_fails_a_trial(
    write_space: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "not-a-dir").write_text("a file where the stores' folders should be")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/not-a-dir/mlflow.db")
    monkeypatch.setenv("AUTOML_TENSORBOARD_DIR", str(tmp_path / "not-a-dir"))
    path = write_space(SPACE.format(name="broken-store", epochs=2))
    with pytest.warns(RuntimeWarning) as caught:
        trials = tune(path, (TB, MLFLOW), trials=1).study.trials
    assert [t.state.name for t in trials] == ["COMPLETE"]
    messages = [str(w.message) for w in caught]
    # in the trial: one warning per tracker (the trial's later writes are skipped)
    assert sum(f"{MLFLOW}: could not open the trial's run for trial 0" in m for m in messages) == 1
    assert sum(f"{TB}: could not write the configuration of trial 0" in m for m in messages) == 1
    assert not any("could not log epoch" in m or "could not write epoch" in m for m in messages)
    # outside it, automl's hook facade turns the exceptions into warnings naming the plugin
    assert any(f"{MLFLOW}" in m and "raised in on_trial_end" in m for m in messages)
    assert any(f"{TB}" in m and "raised in on_study_end" in m for m in messages)


# --------------------------------------------------------------------------- missing library
@pytest.mark.parametrize(
    ("plugin", "library", "extra"),
    [(TB, "tensorboard", "tensorboard"), (MLFLOW, "mlflow", "mlflow")],
)
def test_a_missing_library_is_a_plugin_error_naming_the_extra(
    plugin: str,
    library: str,
    extra: str,
    write_space: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == library or m.startswith(f"{library}.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, library, None)  # `import library` raises ImportError
    monkeypatch.delitem(sys.modules, plugin, raising=False)  # import the plugin afresh
    path = write_space(SPACE.format(name="missing", epochs=1))
    with pytest.raises(PluginError) as raised:
        automl.load_spec(str(path), (plugin,))
    message = str(raised.value)
    assert f"plugin module {plugin!r} failed to import" in message
    assert f"pip install 'automl-keras[{extra}]'" in message
    assert message.endswith(
        f"or remove {plugin} from `plugins:` in the search space or from --plugin."
    )
    assert "\n" not in message and "Traceback" not in message
