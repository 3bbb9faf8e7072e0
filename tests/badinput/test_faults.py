"""Faults while `automl tune` runs: kill -9, SIGINT, SIGTERM, a full disk, two `tune` commands on
one study. Each time: no finished trial is lost, no trial stays RUNNING after the next run, and
the budget is exact."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen

import optuna
import pytest

from automl import journal
from automl.cli import main
from automl.errors import INTERRUPTED_EXIT, StorageError
from automl.parallel import counted_trials
from automl.storage import retried_numbers
from automl.study import tune

COMPLETE, FAIL, RUNNING = (optuna.trial.TrialState[s] for s in ("COMPLETE", "FAIL", "RUNNING"))
REAL_WRITE_ALL = journal._write_all

# on_trial_start marks `<FAULT_MARKS>/<trial>-<pid>`; trials from FAULT_HOLD_FROM on wait
# (up to 3 minutes) for the file FAULT_GO; FAULT_SLEEP slows every trial
FAULT_PLUGIN = """
import os, time
from pathlib import Path
from automl import hookimpl

@hookimpl
def on_trial_start(trial, config):
    marks = os.environ.get("FAULT_MARKS")
    if marks:
        Path(marks, f"{trial.number}-{os.getpid()}").touch()
    time.sleep(float(os.environ.get("FAULT_SLEEP", "0")))
    hold_from = os.environ.get("FAULT_HOLD_FROM")
    deadline = time.time() + 180
    while hold_from and trial.number >= int(hold_from) and time.time() < deadline:
        if Path(os.environ["FAULT_GO"]).exists():
            break
        time.sleep(0.05)
"""
SPACE = """
study: {{name: {name}, trials: {trials}, sampler: random, pruner: none, seed: 0}}
plugins: [fault_plugin.py]
data: {{source: {{sklearn: {{name: iris}}}}, folds: 1}}
training: {{epochs: 1, batch_size: 32, early_stopping: false}}
model: {{mlp: {{layers: 1, units: {{low: 4, high: 32}}}}}}
optimizer: {{adam: {{learning_rate: {{low: 1.0e-3, high: 1.0e-1, log: true}}}}}}
"""


def write_space(folder: Path, name: str, trials: int) -> Path:
    (folder / "fault_plugin.py").write_text(FAULT_PLUGIN)
    path = folder / f"{name}.yaml"
    path.write_text(SPACE.format(name=name, trials=trials))
    return path


def start_tune(space: Path, *args: str, **env: str) -> Popen[str]:
    """A real `automl tune` process (one CPU thread, quiet TensorFlow)."""
    full = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1", **env}
    cmd = [sys.executable, "-m", "automl.cli", "tune", str(space), "--no-progress", *args]
    return subprocess.Popen(
        cmd, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(marks: Path, trial: int, proc: Popen[str]) -> None:
    """Until trial `trial` has started (its mark exists); the process must still run."""
    deadline = time.monotonic() + 120
    while not any(m.name.startswith(f"{trial}-") for m in marks.iterdir()):
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate()
            raise AssertionError(f"trial {trial} never started:\n{out}\n{err}")
        time.sleep(0.05)


def tune_held_at(folder: Path, name: str, trials: int, held: int) -> tuple[Path, Popen[str]]:
    """A real `automl tune` of a new space, once its trial `held` has started (and waits)."""
    marks = folder / "marks"
    marks.mkdir()
    space = write_space(folder, name, trials)
    go = str(folder / "go")
    proc = start_tune(space, FAULT_MARKS=str(marks), FAULT_HOLD_FROM=str(held), FAULT_GO=go)
    wait_for(marks, held, proc)
    return space, proc


def stored(runs: Path, name: str, journal_file: str = "") -> list[optuna.trial.FrozenTrial]:
    """The trials as the journal file holds them."""
    from optuna.storages.journal import JournalStorage

    from automl.journal import SafeJournalFileBackend

    backend = SafeJournalFileBackend(journal_file or str(runs / name / "journal.log"))
    return optuna.load_study(study_name=name, storage=JournalStorage(backend)).trials


@pytest.fixture
def quick_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dead trials are noticed after 2 s (in this process and the ones it starts)."""
    monkeypatch.setenv("AUTOML_HEARTBEAT_INTERVAL", "1")
    monkeypatch.setenv("AUTOML_GRACE_PERIOD", "2")


@pytest.mark.slow  # an `automl tune` process (TensorFlow start-up)
def test_kill_9_of_tune_mid_trial_then_resume(
    tmp_path: Path, runs_dir: Path, quick_heartbeat: None
) -> None:
    """Killed during trial 2, and, as if the kill came in the middle of a write, the journal is
    cut half-way through its last record (one of trial 2's)."""
    space, proc = tune_held_at(tmp_path, "killed", trials=4, held=2)
    proc.kill()
    proc.communicate()
    path = runs_dir / "killed" / "journal.log"
    data = path.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: last + (len(data) - last) // 2])
    with pytest.warns(UserWarning, match=r"a torn record, removed"):
        before = stored(runs_dir, "killed")
    assert (runs_dir / "killed" / "journal.log.torn").exists()
    assert [t.state for t in before] == [COMPLETE, COMPLETE, RUNNING]
    time.sleep(2.5)  # past the grace period: trial 2's process is dead

    result = tune(space, progress=False)

    after = result.study.trials
    assert [(t.number, t.value) for t in after[:2]] == [(t.number, t.value) for t in before[:2]]
    assert after[2].state == FAIL
    assert after[2].user_attrs["fail_reason"] == "its worker stopped sending heartbeats for 2s"
    retry = after[retried_numbers(after)[2]]
    assert retry.params == after[2].params
    assert retry.state == COMPLETE
    assert len(counted_trials(result.study)) == 4
    assert [t.state for t in after].count(COMPLETE) == 4
    assert len(after) == 5


@pytest.mark.slow  # an `automl tune` process per signal
@pytest.mark.parametrize(
    ("signum", "reason"),
    [
        (signal.SIGINT, "interrupted by the user (Ctrl-C, SIGINT)"),
        (signal.SIGTERM, "interrupted by SIGTERM"),
    ],
)
def test_a_signal_stops_tune_cleanly_and_the_next_run_resumes(
    tmp_path: Path, runs_dir: Path, signum: int, reason: str
) -> None:
    space, proc = tune_held_at(tmp_path, "signal", trials=3, held=1)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == INTERRUPTED_EXIT, err
    assert "Traceback" not in err
    assert "interrupted: run the same command again to resume" in out
    before = stored(runs_dir, "signal")
    assert [t.state for t in before] == [COMPLETE, FAIL]
    assert before[1].user_attrs["fail_reason"] == reason
    assert before[1].user_attrs["interrupted"] is True

    result = tune(space, progress=False)

    after = result.study.trials
    assert (after[0].number, after[0].value) == (before[0].number, before[0].value)
    assert [t.state for t in after] == [COMPLETE, FAIL, COMPLETE, COMPLETE]
    assert len(counted_trials(result.study)) == 3  # the interrupted trial used no budget


@pytest.mark.slow  # two `automl tune` processes
def test_two_tune_commands_on_one_study_share_the_budget_exactly(
    tmp_path: Path, runs_dir: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    space = write_space(tmp_path, "twice", trials=5)
    procs = [start_tune(space, FAULT_MARKS=str(marks), FAULT_SLEEP="1") for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    trials = stored(runs_dir, "twice")
    assert [t.state for t in trials] == [COMPLETE] * 5  # none lost, none beyond the budget
    assert len({m.name.split("-")[1] for m in marks.iterdir()}) == 2  # both ran trials
    assert all("Study 'twice': 5/5 trials" in out for out, _ in outputs)


def _fail_on_call(monkeypatch: pytest.MonkeyPatch, first_failing: int) -> None:
    """From the `first_failing`-th journal write on, write half the record and raise ENOSPC,
    as a full disk does."""
    real = journal._write_all
    calls = {"n": 0}

    def write(fd: int, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] < first_failing:
            real(fd, data)
            return
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal, "_write_all", write)


@pytest.mark.slow  # four trials and a grace period (tests/test_journal.py covers ENOSPC fast)
def test_a_full_disk_stops_tune_cleanly_and_the_next_run_loses_nothing(
    tmp_path: Path,
    runs_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    quick_heartbeat: None,
) -> None:
    """ENOSPC half-way through a journal record in the middle of the second trial."""
    space = write_space(tmp_path, "full", trials=3)
    assert main(["tune", str(space), "--no-progress", "--trials", "1"]) == 0
    (first,) = stored(runs_dir, "full")
    journal_bytes = (runs_dir / "full" / "journal.log").read_bytes()
    _fail_on_call(monkeypatch, first_failing=4)  # a few records into trial 1
    status = main(["tune", str(space), "--no-progress"])
    err = capsys.readouterr().err
    assert status == StorageError.exit_code
    assert "Traceback" not in err
    assert f"cannot write to the journal file {runs_dir / 'full' / 'journal.log'}: " in err
    assert "the disk is full" in err
    stopped = stored(runs_dir, "full")
    assert [t.state for t in stopped] == [COMPLETE, RUNNING]  # trial 1 could not be told
    assert stopped[0].value == first.value
    assert (runs_dir / "full" / "journal.log").read_bytes().startswith(journal_bytes)
    monkeypatch.setattr(journal, "_write_all", REAL_WRITE_ALL)  # the disk has room again
    time.sleep(2.5)  # past the grace period: trial 1's run is over

    result = tune(space, progress=False)

    after = result.study.trials
    assert (after[0].number, after[0].value) == (first.number, first.value)
    assert after[1].state == FAIL  # failed as stale by the next run, and retried
    assert len(counted_trials(result.study)) == 3
    assert [t.state for t in after].count(COMPLETE) == 3


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A real 12 KiB file system (tmpfs; mounting needs root): a disk that really fills."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root; the simulated ENOSPC test covers this")
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.slow  # an `automl tune` process
def test_a_really_full_disk_then_room_again(
    tmp_path: Path, runs_dir: Path, small_filesystem: Path, quick_heartbeat: None
) -> None:
    """The journal on a 12 KiB file system fills during the study: `tune` exits 6 naming it;
    with room again (the file system grown), the next run resumes and loses nothing."""
    space = write_space(tmp_path, "disk", trials=8)
    store = str(small_filesystem / "journal.log")
    proc = start_tune(space, "--storage", store)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == StorageError.exit_code, out + err
    assert "Traceback" not in err
    assert f"cannot write to the journal file {store}: the disk is full" in err
    finished = [(t.number, t.value) for t in stored(runs_dir, "disk", store) if t.state == COMPLETE]
    assert 1 <= len(finished) < 8
    grown = ["mount", "-o", "remount,size=1m", str(small_filesystem)]
    subprocess.run(grown, check=True)
    time.sleep(2.5)

    result = tune(space, storage=store, progress=False)

    after = {t.number: t.value for t in result.study.trials}
    assert all(after[number] == value for number, value in finished)
    assert len(counted_trials(result.study)) == 8
