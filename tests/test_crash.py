"""Workers that die or are stopped leave no trial RUNNING; a killed worker's trial is retried."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import optuna
import pytest
from workers_util import journal

from automl.study import counted_trials, leaderboard
from automl.workers import (
    HEARTBEAT_ATTR,
    budget_use,
    fail_stale_trials,
    handle_signals,
    retried_numbers,
)

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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("during", ["trial", "callback"])
def test_a_signal_stops_the_loop_cleanly(runs_dir: Path, signum: int, during: str) -> None:
    """In a trial: the trial is interrupted and failed. Between trials (here in a callback, where
    a result is being recorded): nothing is interrupted and no new trial starts."""
    from types import SimpleNamespace

    from automl.workers import run_trials

    study = optuna.create_study(study_name="sig", storage=journal(runs_dir, "sig"))
    path = str(runs_dir / "sig" / "journal.log")
    spec = SimpleNamespace(study=SimpleNamespace(name="sig", storage=path))

    def objective(trial: optuna.Trial) -> float:
        if during == "trial":
            os.kill(os.getpid(), signum)
            time.sleep(30)
        return 1.0

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if during == "callback":
            os.kill(os.getpid(), signum)
            time.sleep(0.1)

    before = signal.getsignal(signum)
    started = time.monotonic()
    with handle_signals():
        outcome = run_trials(study, spec, objective, 5, callbacks=[callback], storage=path)

    assert outcome.interrupted and outcome.ran == 1 and time.monotonic() - started < 10
    expected = "FAIL" if during == "trial" else "COMPLETE"
    assert [t.state.name for t in study.get_trials()] == [expected]
    assert signal.getsignal(signum) is before


@pytest.mark.parametrize("value", ["0", "-3"])
def test_grace_period_must_be_positive(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from automl.errors import AutoMLError
    from automl.workers import heartbeat_settings

    monkeypatch.setenv("AUTOML_GRACE_PERIOD", value)
    with pytest.raises(
        AutoMLError, match=rf"must be >= 1. Received: AUTOML_GRACE_PERIOD='{value}'"
    ):
        heartbeat_settings()


def test_a_worker_with_no_budget_left_waits_and_retries_a_trial_whose_worker_died(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from automl.workers import run_trials

    monkeypatch.setenv("AUTOML_HEARTBEAT_INTERVAL", "1")
    monkeypatch.setenv("AUTOML_GRACE_PERIOD", "2")
    study = optuna.create_study(study_name="tail", storage=journal(runs_dir, "tail"))
    orphan = study.ask()  # the last trial of the budget, on a worker that then goes silent
    orphan.suggest_float("x", 0, 1)
    study._storage.set_trial_system_attr(orphan._trial_id, HEARTBEAT_ATTR, time.time())
    path = str(runs_dir / "tail" / "journal.log")
    spec = SimpleNamespace(study=SimpleNamespace(name="tail", storage=path))
    started = time.monotonic()

    outcome = run_trials(study, spec, lambda t: t.suggest_float("x", 0, 1), 1, storage=path)

    assert outcome.ran == 1 and time.monotonic() - started >= 2
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    assert trials[1].params == trials[0].params
