"""Many machines on one PostgreSQL database: real server on loopback, real worker processes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import optuna
import pytest
from pg_server import postgres_server, postgres_url  # noqa: F401 (fixtures)
from workers_util import finish, start_worker, worker_env, write_space

from automl.leaderboard import leaderboard
from automl.parallel import counted_trials
from automl.storage import database_url, retried_numbers

COMPLETE, FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL


@pytest.mark.slow
def test_three_workers_share_the_budget_one_killed_one_stopped(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """Three `automl worker` processes on one database: one is SIGKILLed mid-trial (its trial is
    failed by the heartbeat and retried), one gets SIGTERM (its trial fails as interrupted, exit
    130), and the trials still add up to the budget, none lost or duplicated."""
    marks = tmp_path / "marks"
    marks.mkdir()
    space = write_space(tmp_path, "pg", trials=6)
    env = worker_env(
        AUTOML_TEST_MARKS=str(marks),
        AUTOML_TEST_HOLD=str(tmp_path / "go"),  # every trial waits for the go
        AUTOML_HEARTBEAT_INTERVAL="1",
        AUTOML_GRACE_PERIOD="4",
    )
    procs = [
        start_worker(space, "--storage", postgres_url, "--index", str(i), env=env) for i in range(3)
    ]
    deadline = time.monotonic() + 180
    while len({m.name.split("-")[1] for m in marks.iterdir()}) < 3 and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):  # a worker ended early: show why
            (tmp_path / "go").touch()
            raise AssertionError(f"a worker exited early: {finish(procs)}")
        time.sleep(0.05)
    first: dict[int, int] = {}
    for m in sorted(marks.iterdir(), key=lambda m: int(m.name.split("-")[0])):
        first.setdefault(int(m.name.split("-")[1]), int(m.name.split("-")[0]))
    assert set(first) == {p.pid for p in procs}  # all three are in the middle of a trial
    killed, stopped, _ = procs
    os.kill(killed.pid, signal.SIGKILL)
    stopped.send_signal(signal.SIGTERM)
    (tmp_path / "go").touch()
    codes = finish(procs)

    assert codes == [-signal.SIGKILL, 130, 0]
    study = optuna.load_study(study_name="pg", storage=database_url(postgres_url))
    trials = study.trials
    assert not [t.number for t in trials if t.state not in (COMPLETE, FAIL)]  # none RUNNING
    dead = trials[first[killed.pid]]
    assert dead.state == FAIL
    retry = trials[retried_numbers(trials)[dead.number]]
    assert retry.state == COMPLETE and retry.params == dead.params
    interrupted = trials[first[stopped.pid]]
    assert interrupted.state == FAIL and interrupted.user_attrs["interrupted"] is True
    assert interrupted.user_attrs["fail_reason"].startswith("interrupted")
    complete = [t for t in trials if t.state == COMPLETE]
    assert len(complete) == 6  # the budget, exactly: nothing lost, nothing extra
    assert len(counted_trials(study)) == 6
    assert len({t.user_attrs["worker"] for t in trials}) == 3
    row = next(r for r in leaderboard(study, "maximize") if r["trial"] == dead.number)
    assert row["reason"] == f"its worker died (no heartbeat); retried as trial {retry.number}"
    assert sorted(t.number for t in trials if t.state == FAIL) == sorted(
        [dead.number, interrupted.number]
    )


def test_server_binaries_are_found_or_the_reason_is_given() -> None:
    from pg_server import MISSING, pg_bin

    found = pg_bin()
    if found is None:
        pytest.skip(MISSING)
    assert (found / "initdb").exists() and (found / "pg_ctl").exists()
