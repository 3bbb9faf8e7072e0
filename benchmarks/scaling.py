"""Trials per minute with 1 and 2 worker processes on the same space, measured side by side.

    .venv/bin/python benchmarks/scaling.py                  # 16 trials per run
    .venv/bin/python benchmarks/scaling.py --trials 24 --jobs 1 2 4

Each run is `automl tune SPACE --jobs N --trials T` in a fresh runs directory on the same
space (an MLP on the 8x8 digits, 5 epochs, no pruning, so every trial does the same work).
Two rates are printed: over the whole command (process start and TensorFlow import included),
and over the trials themselves (first trial start to last trial end). With N workers each gets
cores/N CPU threads; on a 2-core machine expect at most 2x.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from optuna.storages.journal import JournalFileBackend, JournalStorage

SPACE = """
study:
  name: scaling
  trials: 16
  sampler: random
  pruner: none
  keep_checkpoints: 1
data:
  source: {sklearn: {name: digits}}
training:
  epochs: 5
  batch_size: 32
  early_stopping: false
model:
  mlp: {layers: 2, units: {low: 64, high: 128}}
loss: crossentropy
optimizer:
  adam: {learning_rate: {low: 1.0e-3, high: 1.0e-2, log: true}}
"""


def run(space: Path, jobs: int, trials: int, work: Path) -> tuple[float, float]:
    """(trials/minute over the command, trials/minute over the trials) for `--jobs jobs`."""
    runs = work / f"jobs{jobs}"
    env = {**os.environ, "AUTOML_RUNS_DIR": str(runs), "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [
        sys.executable,
        "-m",
        "automl.cli",
        "tune",
        str(space),
        "--jobs",
        str(jobs),
        "--trials",
        str(trials),
        "--no-progress",
    ]
    started = time.monotonic()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    storage = JournalStorage(JournalFileBackend(str(runs / "scaling" / "journal.log")))
    done = optuna.load_study(study_name="scaling", storage=storage).trials
    first = min(t.datetime_start for t in done)
    last = max(t.datetime_complete for t in done)
    window = (last - first).total_seconds()
    return 60 * trials / wall, 60 * len(done) / window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        space = Path(tmp) / "scaling.yaml"
        space.write_text(SPACE)
        for jobs in args.jobs:
            print(f"--jobs {jobs}: {args.trials} trials ...", flush=True)
            rates[jobs] = run(space, jobs, args.trials, Path(tmp))
    print(f"\n{os.cpu_count()} CPU cores; {args.trials} trials per run")
    print("jobs  trials/min (command)  trials/min (trials only)  ratio vs --jobs 1")
    base = rates[args.jobs[0]]
    for jobs, (command, trials) in rates.items():
        print(
            f"{jobs:<4}  {command:20.1f}  {trials:24.1f}  "
            f"{command / base[0]:.2f}x / {trials / base[1]:.2f}x"
        )


if __name__ == "__main__":
    main()
