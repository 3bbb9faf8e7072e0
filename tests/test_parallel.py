"""Several worker processes on one machine share one study: exact budget, own seeds, own threads."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from workers_util import journal, race, write_space

from automl.cli import main
from automl.errors import AutoMLError
from automl.workers import budget_use, heartbeat_settings, thread_env, threads_per_worker


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


def test_budget_is_exact_when_four_processes_race_on_the_journal(tmp_path: Path) -> None:
    path = str(tmp_path / "journal.log")
    ran = race(path, "race", budget=40, workers=4)
    study = optuna.load_study(study_name="race", storage=journal(tmp_path.parent, tmp_path.name))
    states = [t.state for t in study.trials]
    assert sum(ran) == 40
    assert states == [optuna.trial.TrialState.COMPLETE] * 40
    assert sum(1 for n in ran if n > 0) >= 2  # they did share the work
    assert budget_use(study) == (40, 0)


def test_tune_jobs_two_workers_share_the_study(
    tmp_path: Path,
    runs_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("AUTOML_TEST_MARKS", str(marks))
    monkeypatch.setenv("AUTOML_TEST_SLEEP", "1")
    space = write_space(tmp_path, "jobs", trials=4)

    assert main(["tune", str(space), "--jobs", "2", "--no-progress"]) == 0

    assert "Study 'jobs': 4/4 trials" in capsys.readouterr().out
    study = optuna.load_study(study_name="jobs", storage=journal(runs_dir, "jobs"))
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
    workers = {t.user_attrs["worker"] for t in study.trials}
    assert len(workers) == 2  # two processes ran trials...
    params = {tuple(sorted(t.params.items())) for t in study.trials}
    assert len(params) == 4  # ...with different sampler seeds
    threads = str(threads_per_worker(2))
    assert {m.read_text() for m in marks.iterdir()} == {f"{threads},{threads}"}
    # running it again: the budget is spent, nothing more runs
    assert main(["tune", str(space), "--jobs", "2", "--no-progress"]) == 0
    assert len(optuna.load_study(study_name="jobs", storage=journal(runs_dir, "jobs")).trials) == 4
