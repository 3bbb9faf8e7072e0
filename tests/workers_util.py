"""Helpers of the multi-process tests: a tiny space, a plugin that marks (and slows) trials,
and real `automl worker` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna

# on_trial_start writes `<AUTOML_TEST_MARKS>/<trial>-<pid>` (holding the thread limits), then
# sleeps AUTOML_TEST_SLEEP seconds; the process of a trial listed in AUTOML_TEST_DIE kills
# itself (a crash inside the trial); with AUTOML_TEST_HOLD=<file>, trials wait until it exists
MARK_PLUGIN = """
import os, signal, time
from pathlib import Path
from automl import hookimpl

@hookimpl
def on_trial_start(trial, config):
    marks = os.environ.get("AUTOML_TEST_MARKS")
    if marks:
        env = os.environ
        threads = env.get("OMP_NUM_THREADS", "") + "," + env.get("TF_NUM_INTRAOP_THREADS", "")
        Path(marks, f"{trial.number}-{os.getpid()}").write_text(threads)
    if str(trial.number) in os.environ.get("AUTOML_TEST_DIE", "").split(","):
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(float(os.environ.get("AUTOML_TEST_SLEEP", "0")))
    hold = os.environ.get("AUTOML_TEST_HOLD")
    deadline = time.time() + 180
    while hold and not Path(hold).exists() and time.time() < deadline:
        time.sleep(0.05)
"""

SPACE = """
study:
  name: {name}
  trials: {trials}
  sampler: random
  pruner: none
  seed: 0
{extra}
plugins: [mark_plugin.py]
data:
  source: {{sklearn: {{name: iris}}}}
  folds: 1
training:
  epochs: 1
  batch_size: 32
  early_stopping: false
model:
  mlp: {{layers: {{low: 1, high: 2}}, units: {{low: 4, high: 64}}}}
loss: crossentropy
optimizer:
  adam: {{learning_rate: {{low: 1.0e-3, high: 1.0e-1, log: true}}}}
"""


def write_space(directory: Path, name: str = "par", trials: int = 4, extra: str = "") -> Path:
    """The tiny iris space (1 epoch, small MLP) with the marking plugin next to it."""
    (directory / "mark_plugin.py").write_text(MARK_PLUGIN)
    path = directory / f"{name}.yaml"
    path.write_text(SPACE.format(name=name, trials=trials, extra=extra))
    return path


def worker_env(**extra: str) -> dict[str, str]:
    """This process's environment (AUTOML_RUNS_DIR included) with one CPU thread per worker."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1"}
    env.update(extra)
    return env


def start_worker(space: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """A real `automl worker` process."""
    cmd = [sys.executable, "-m", "automl.cli", "worker", str(space), "--threads", "1", *args]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_for_mark(marks: Path, timeout: float = 90) -> tuple[int, int]:
    """(trial number, pid) of the first trial that started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(marks.iterdir())
        if found:
            number, pid = found[0].name.split("-")
            return int(number), int(pid)
        time.sleep(0.1)
    raise AssertionError("no trial started")


def finish(procs: list[subprocess.Popen[str]], timeout: float = 180) -> list[int]:
    """Wait for the workers; returns their exit statuses (output shown on failure)."""
    codes = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            out, _ = p.communicate()
        codes.append(p.returncode)
        sys.stdout.write(out or "")
    return codes


def load(name: str, storage: str | optuna.storages.BaseStorage) -> optuna.Study:
    """The study as stored."""
    return optuna.load_study(study_name=name, storage=storage)


def journal(runs: Path, name: str) -> optuna.storages.BaseStorage:
    """The default journal storage of study `name` under `runs`."""
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    (runs / name).mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(runs / name / "journal.log")))


def race_worker(url: str, name: str, budget: int) -> int:
    """A worker of `run_trials` with an instant objective (no TensorFlow): many of them at once
    race for the last places of the budget. Returns how many trials it ran."""
    from types import SimpleNamespace

    from automl.parallel import run_trials

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if url.startswith("postgresql"):
        storage: optuna.storages.BaseStorage = _storage(url)
    else:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        storage = JournalStorage(JournalFileBackend(url))
    study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True)
    spec = SimpleNamespace(study=SimpleNamespace(name=name, storage=url))

    def objective(trial: optuna.Trial) -> float:
        time.sleep(0.01)
        return trial.suggest_float("x", 0, 1)

    return run_trials(study, spec, objective, budget, storage=url).ran  # type: ignore[arg-type]


def race(url: str, name: str, budget: int, workers: int = 4) -> list[int]:
    """Run `workers` spawned `race_worker` processes at once; returns the trials each ran."""
    import multiprocessing

    optuna.create_study(study_name=name, storage=_storage(url))  # created once, before the race
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return pool.starmap(race_worker, [(url, name, budget)] * workers)


def _storage(url: str) -> optuna.storages.BaseStorage:
    if url.startswith("postgresql"):
        from automl.storage import database_url

        return optuna.storages.RDBStorage(database_url(url))
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(url))


def open_rdb(url: str) -> str:
    """Open the RDB storage of `url` as a worker does; "ok" or the error."""
    from automl.storage import rdb_storage

    try:
        rdb_storage(url)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"
