"""Several worker processes on one machine share one study: exact budget, own seeds, own threads."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import optuna
import pytest
from workers_util import journal, race, wait_for_mark, write_space

from automl.cli import main
from automl.errors import AutoMLError
from automl.workers import (
    budget_use,
    heartbeat_settings,
    retried_numbers,
    thread_env,
    threads_per_worker,
)


def test_thread_env_caps_every_pool() -> None:
    env = thread_env(3)
    assert env["OMP_NUM_THREADS"] == env["TF_NUM_INTRAOP_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert env["TF_NUM_INTEROP_THREADS"] == "2"
    assert threads_per_worker(10_000) == 1
    with pytest.raises(AutoMLError, match=r"threads must be >= 1. Received: threads=0"):
        thread_env(0)


def test_heartbeat_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert heartbeat_settings() == (10, 30)
    monkeypatch.setenv("AUTOML_HEARTBEAT_INTERVAL", "5")
    monkeypatch.setenv("AUTOML_GRACE_PERIOD", "5")
    with pytest.raises(AutoMLError, match=r"`heartbeat interval < grace period` must hold"):
        heartbeat_settings()
    monkeypatch.setenv("AUTOML_GRACE_PERIOD", "soon")
    with pytest.raises(
        AutoMLError, match=r"whole number of seconds. Received: AUTOML_GRACE_PERIOD='soon'"
    ):
        heartbeat_settings()


def test_budget_is_exact_when_three_processes_race_on_the_journal(tmp_path: Path) -> None:
    path = str(tmp_path / "journal.log")
    ran = race(path, "race", budget=24, workers=3)
    study = optuna.load_study(study_name="race", storage=journal(tmp_path.parent, tmp_path.name))
    states = [t.state for t in study.trials]
    assert sum(ran) == 24
    assert states == [optuna.trial.TrialState.COMPLETE] * 24
    assert sum(1 for n in ran if n > 0) >= 2  # they did share the work
    assert budget_use(study) == (24, 0)


def test_tune_jobs_two_workers_share_the_study_and_survive_a_killed_worker(
    tmp_path: Path,
    runs_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    for name, value in {
        "AUTOML_TEST_MARKS": str(marks),
        "AUTOML_TEST_SLEEP": "2",
        "AUTOML_HEARTBEAT_INTERVAL": "1",
        "AUTOML_GRACE_PERIOD": "4",
    }.items():
        monkeypatch.setenv(name, value)
    space = write_space(tmp_path, "jobs", trials=4)
    victim: list[tuple[int, int]] = []

    def kill_the_first_worker_mid_trial() -> None:
        victim.append(wait_for_mark(marks))
        os.kill(victim[0][1], signal.SIGKILL)

    killer = threading.Thread(target=kill_the_first_worker_mid_trial)
    killer.start()
    assert main(["tune", str(space), "--jobs", "2", "--no-progress"]) == 0
    killer.join()

    captured = capsys.readouterr()
    assert "Study 'jobs': 4/4 trials" in captured.out
    assert "1 worker(s) exited with status [-9]" in captured.err
    study = optuna.load_study(study_name="jobs", storage=journal(runs_dir, "jobs"))
    trials = study.trials
    killed_trial = victim[0][0]
    assert trials[killed_trial].state.name == "FAIL"  # not RUNNING forever: failed, and...
    retry = trials[retried_numbers(trials)[killed_trial]]
    assert retry.state.name == "COMPLETE" and retry.params == trials[killed_trial].params
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 4 and len(trials) == 5  # ...retried by the other worker
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    assert len({tuple(sorted(t.params.items())) for t in complete}) == 4  # own seeds
    threads = str(threads_per_worker(2))
    assert {m.read_text() for m in marks.iterdir()} == {f"{threads},{threads}"}
    # run again: the budget is spent, no worker is started
    assert main(["tune", str(space), "--jobs", "2", "--no-progress"]) == 0
    assert len(optuna.load_study(study_name="jobs", storage=journal(runs_dir, "jobs")).trials) == 5


def test_jobs_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    space = write_space(tmp_path, "zero", trials=1)
    assert main(["tune", str(space), "--jobs", "0", "--no-progress"]) == 1
    assert "`jobs >= 1` must hold. Received: jobs=0" in capsys.readouterr().err
