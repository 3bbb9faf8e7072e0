"""Many machines on one PostgreSQL database: real server on loopback, real worker processes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import optuna
import pytest
from pg_server import postgres_server, postgres_url  # noqa: F401 (fixtures)
from workers_util import finish, race, start_worker, wait_for_mark, worker_env, write_space

from automl.study import leaderboard
from automl.workers import budget_use, database_url, retried_numbers

COMPLETE, FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL


def test_budget_is_exact_when_four_processes_race_on_postgres(postgres_url: str) -> None:  # noqa: F811
    ran = race(postgres_url, "race", budget=30, workers=4)
    study = optuna.load_study(study_name="race", storage=database_url(postgres_url))
    assert sum(ran) == 30
    assert [t.state for t in study.trials] == [COMPLETE] * 30
    assert budget_use(study) == (30, 0)


def test_three_workers_share_the_budget_and_retry_a_killed_workers_trial(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    space = write_space(tmp_path, "pg", trials=6)
    env = worker_env(
        AUTOML_TEST_MARKS=str(marks),
        AUTOML_TEST_SLEEP="2",
        AUTOML_HEARTBEAT_INTERVAL="1",
        AUTOML_GRACE_PERIOD="4",
    )
    procs = [
        start_worker(space, "--storage", postgres_url, "--index", str(i), env=env) for i in range(3)
    ]
    killed_trial, pid = wait_for_mark(marks)
    os.kill(pid, signal.SIGKILL)  # in the middle of its trial (it sleeps 2 s in on_trial_start)
    victim = next(p for p in procs if p.pid == pid)
    codes = finish(procs)

    assert [c for p, c in zip(procs, codes, strict=True) if p is not victim] == [0, 0]
    study = optuna.load_study(study_name="pg", storage=database_url(postgres_url))
    trials = study.trials
    assert not [t.number for t in trials if t.state not in (COMPLETE, FAIL)]  # none RUNNING
    killed = trials[killed_trial]
    assert killed.state == FAIL
    retry = trials[retried_numbers(trials)[killed_trial]]
    assert retry.state == COMPLETE and retry.params == killed.params
    complete = [t for t in trials if t.state == COMPLETE]
    assert len(complete) == 6  # the budget, exactly: nothing lost, nothing extra
    assert len({t.number for t in complete}) == 6
    assert len({t.user_attrs["worker"] for t in complete}) >= 2
    row = next(r for r in leaderboard(study, "maximize") if r["trial"] == killed_trial)
    assert row["reason"] == f"its worker died (no heartbeat); retried as trial {retry.number}"
    assert [t.number for t in trials if t.state == FAIL] == [killed_trial]


def test_server_binaries_are_found_or_the_reason_is_given() -> None:
    from pg_server import MISSING, pg_bin

    found = pg_bin()
    if found is None:
        pytest.skip(MISSING)
    assert (found / "initdb").exists() and (found / "pg_ctl").exists()
