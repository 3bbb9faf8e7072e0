"""`isolation: process` runs each trial in a fresh process; a crash fails only its trial."""

from __future__ import annotations

import os
from pathlib import Path

import keras
import pytest
from workers_util import write_space

from automl.spec import load_spec
from automl.storage import checkpoint_path
from automl.study import tune


@pytest.mark.slow
def test_each_trial_runs_in_a_fresh_process_and_a_crash_fails_only_its_trial(
    tmp_path: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("AUTOML_TEST_MARKS", str(marks))
    monkeypatch.setenv("AUTOML_TEST_DIE", "0")  # trial 0's process kills itself
    space = write_space(tmp_path, "iso", trials=2, extra="  isolation: process")

    result = tune(space, progress=False)

    states = {row["trial"]: row["state"] for row in result.leaderboard}
    assert states == {0: "fail", 1: "complete"}
    reason = next(r["reason"] for r in result.leaderboard if r["trial"] == 0)
    assert reason == "the trial process died (exit status -9)"
    pids = {int(m.name.split("-")[1]) for m in marks.iterdir()}
    assert len(pids) == 2 and os.getpid() not in pids  # two fresh processes
    params = [tuple(sorted(t.params.items())) for t in result.study.trials]
    assert len(set(params)) == 2  # each fresh sampler is seeded by its trial number
    spec = load_spec(space)
    best = result.best_trial
    assert best is not None
    model = keras.saving.load_model(checkpoint_path(spec, best.number))
    assert model.output_shape == (None, 3)
    assert result.study.trials[1].user_attrs["history"]["score"]  # recorded in the child


def test_isolation_and_recycle_are_validated(write_space) -> None:  # type: ignore[no-untyped-def]
    from automl.errors import SpecError

    path = write_space(
        """
        study: {isolation: thread, recycle_after: 0}
        data: {source: {sklearn: {name: iris}}}
        model: {mlp: {}}
        """
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert "study.isolation" in message and "'none' or 'process'" in message
    assert "study.recycle_after" in message and "expected a value > 0" in message


def test_a_spawned_trial_filters_tensorflow_s_start_up_lines_as_its_parent() -> None:
    import subprocess
    import sys

    from automl.console import FILTER_ENV

    code = "import automl.parallel.isolation\nimport tensorflow\n"
    env = {**os.environ, FILTER_ENV: "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_child_returns_one_value_per_objective() -> None:
    import optuna

    from automl.parallel.isolation import _outcome

    study = optuna.create_study(directions=["maximize", "minimize"])
    trial = study.ask()
    assert _outcome(trial, ("complete", (0.5, 120)), 0) == (0.5, 120.0)
    assert _outcome(trial, ("complete", 0.25), 0) == 0.25
