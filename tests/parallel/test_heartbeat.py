"""Workers that die leave no trial RUNNING: a stale trial is failed and retried once."""

from __future__ import annotations

import time
from pathlib import Path

import optuna
from workers_util import journal

from automl.leaderboard import leaderboard
from automl.parallel import HEARTBEAT_ATTR, Heartbeat, budget_use, counted_trials, fail_stale_trials
from automl.storage import retried_numbers


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


def test_the_heartbeat_thread_beats_until_stopped(runs_dir: Path) -> None:
    study = optuna.create_study(study_name="beat", storage=journal(runs_dir, "beat"))
    trial = study.ask()

    def last() -> float:
        return float(study._storage.get_trial(trial._trial_id).system_attrs[HEARTBEAT_ATTR])

    with Heartbeat(study, trial._trial_id, interval=0.05):
        time.sleep(0.1)
        first = last()
        time.sleep(0.3)
        assert last() > first  # it beat again meanwhile
    stopped = last()
    time.sleep(0.2)
    assert last() == stopped
    assert fail_stale_trials(study, grace=30) == []
