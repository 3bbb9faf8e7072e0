"""Workers that die or are stopped leave no trial RUNNING; a killed worker's trial is retried."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import optuna
import pytest
from workers_util import finish, journal, start_worker, wait_for_mark, worker_env, write_space

from automl.study import counted_trials, leaderboard
from automl.workers import HEARTBEAT_ATTR, budget_use, fail_stale_trials, retried_numbers

COMPLETE, FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL


def test_stale_running_trial_on_the_journal_is_failed_and_retried(runs_dir: Path) -> None:
    study = optuna.create_study(study_name="stale", storage=journal(runs_dir, "stale"))
    alive, dead = study.ask(), study.ask()
    for trial in (alive, dead):
        trial.suggest_float("x", 0, 1)
    study._storage.set_trial_system_attr(alive._trial_id, HEARTBEAT_ATTR, time.time())
    study._storage.set_trial_system_attr(dead._trial_id, HEARTBEAT_ATTR, time.time() - 60)

    assert fail_stale_trials(study, grace=30) == [dead.number]
    assert fail_stale_trials(study, grace=30) == []  # only once

    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["RUNNING", "FAIL", "WAITING"]
    assert trials[2].params == trials[1].params and HEARTBEAT_ATTR not in trials[2].system_attrs
    assert retried_numbers(trials) == {dead.number: 2}
    assert budget_use(study) == (2, 1)  # the dead trial no longer counts; its retry does
    assert trials[1].user_attrs["fail_reason"] == "its worker stopped sending heartbeats for 30s"
    study.tell(alive, 1.0)
    retry = study.ask()  # the next ask runs the retry first
    assert retry.number == 2 and retry.params == trials[1].params
    study.tell(retry, 0.5)
    assert [t.number for t in counted_trials(study)] == [0, 2]
    row = next(r for r in leaderboard(study, "maximize") if r["trial"] == dead.number)
    assert row["reason"] == "its worker stopped sending heartbeats for 30s; retried as trial 2"


def test_sigkilled_worker_on_the_journal_is_retried_by_the_survivor(
    tmp_path: Path, runs_dir: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    space = write_space(tmp_path, "crash", trials=3)
    env = worker_env(
        AUTOML_TEST_MARKS=str(marks),
        AUTOML_TEST_SLEEP="2",
        AUTOML_HEARTBEAT_INTERVAL="1",
        AUTOML_GRACE_PERIOD="4",
    )
    procs = [start_worker(space, "--index", str(i), env=env) for i in range(2)]
    killed_trial, pid = wait_for_mark(marks)
    os.kill(pid, signal.SIGKILL)
    survivor = next(p for p in procs if p.pid != pid)
    codes = finish(procs)

    assert codes[procs.index(survivor)] == 0
    study = optuna.load_study(study_name="crash", storage=journal(runs_dir, "crash"))
    trials = study.trials
    assert not [t.number for t in trials if t.state not in (COMPLETE, FAIL)]
    assert trials[killed_trial].state == FAIL
    retry = trials[retried_numbers(trials)[killed_trial]]
    assert retry.state == COMPLETE and retry.params == trials[killed_trial].params
    assert len([t for t in trials if t.state == COMPLETE]) == 3
    assert len(counted_trials(study)) == 3


def test_sigterm_and_sigint_stop_workers_cleanly(tmp_path: Path, runs_dir: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    space = write_space(tmp_path, "stop", trials=10)
    env = worker_env(AUTOML_TEST_MARKS=str(marks), AUTOML_TEST_SLEEP="60")
    procs = [start_worker(space, "--index", str(i), env=env) for i in range(2)]
    deadline = time.monotonic() + 120
    while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = {int(m.name.split("-")[1]): int(m.name.split("-")[0]) for m in marks.iterdir()}
    assert set(pids) == {p.pid for p in procs}
    procs[0].send_signal(signal.SIGTERM)
    procs[1].send_signal(signal.SIGINT)
    started = time.monotonic()
    codes = finish(procs, timeout=60)

    assert codes == [130, 130]
    assert time.monotonic() - started < 30  # did not wait for the 60 s trial
    study = optuna.load_study(study_name="stop", storage=journal(runs_dir, "stop"))
    assert [t.state for t in study.trials] == [FAIL, FAIL]
    for t in study.trials:
        assert t.user_attrs["interrupted"] is True
        assert t.user_attrs["fail_reason"].startswith("interrupted")
    assert counted_trials(study) == []  # stopped trials do not use the budget


@pytest.mark.parametrize("value", ["0", "-3"])
def test_grace_period_must_be_positive(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from automl.errors import AutoMLError
    from automl.workers import heartbeat_settings

    monkeypatch.setenv("AUTOML_GRACE_PERIOD", value)
    with pytest.raises(
        AutoMLError, match=rf"must be >= 1. Received: AUTOML_GRACE_PERIOD='{value}'"
    ):
        heartbeat_settings()
