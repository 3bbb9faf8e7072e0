"""`tune --jobs N`: worker processes share one study (exact budget, own seeds, own threads),
survive a killed worker, and are replaced after `recycle_after` trials."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import optuna
import pytest
from workers_util import journal, wait_for_mark, write_space

from automl.cli import main
from automl.parallel import threads_per_worker, worker_command
from automl.spec import load_spec
from automl.storage import retried_numbers
from automl.study import tune


def test_worker_command(tmp_path: Path) -> None:
    space = write_space(tmp_path, "cmd", trials=2)
    spec = load_spec(space, ("json",))  # one --plugin beyond the file's own
    cmd = worker_command(spec, 6, 12.3456, "sqlite:///s.db", 2, 4, verbose=2)
    assert cmd == [
        sys.executable, "-m", "automl.cli", "worker", str(space), "--trials", "6", "--index", "2",
        "--plugin", "json", "--storage", "sqlite:///s.db", "--timeout", "12.346",
        "--threads", "4", "-vv",
    ]  # fmt: skip


@pytest.mark.slow
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


@pytest.mark.slow
def test_workers_are_recycled_after_n_trials(
    tmp_path: Path, runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = write_space(tmp_path, "recycle", trials=3, extra="  recycle_after: 2")

    result = tune(space, progress=False)

    study = optuna.load_study(study_name="recycle", storage=journal(runs_dir, "recycle"))
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    workers = [t.user_attrs["worker"] for t in study.trials]
    assert workers[0] == workers[1] != workers[2]  # a new process after two trials
    assert len(result.leaderboard) == 3
