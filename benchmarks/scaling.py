"""Trials per minute with 1 and 2 worker processes on the same space, measured side by side.

    .venv/bin/python benchmarks/scaling.py                         # 16 trials, 3 repeats
    .venv/bin/python benchmarks/scaling.py --trials 8 --repeats 3 --jobs 1 2

Each run is `automl tune SPACE --jobs N --trials T` in a fresh runs directory. Every trial does
the same work: the model is fixed (an MLP of 2 x 96 units on the 64 digits columns, 5 epochs,
batch 32, no early stopping, no pruning); only the learning rate is sampled, and it does not
change the cost, so the workers' different sampler seeds cannot make one setting cheaper. The
settings alternate between repeats (1 2, 2 1, 1 2, ...). With N workers each gets cores/N CPU
threads; `--jobs 1` trains in the `tune` process with all of them.

Two rates per run: over the whole command (process starts and TensorFlow imports included), and
over the trials (first trial start to last trial end). Prints each repeat, then the medians and
their ratios to the first setting. On 2 cores expect at most 2x (target: >= 1.6x over the trials).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from optuna.storages.journal import JournalFileBackend, JournalStorage

SPACE = """
study: {name: scaling, trials: 16, sampler: random, pruner: none, seed: 0, keep_checkpoints: 1}
data: {source: {sklearn: {name: digits, images: false}}, folds: 1}
training: {epochs: 5, batch_size: 32, early_stopping: false}
preprocessors: [min_max]
model: {mlp: {layers: 2, units: 96, dropout: 0.0}}
activation: relu
loss: crossentropy
optimizer: {adam: {learning_rate: {low: 1.0e-3, high: 1.0e-2, log: true}}}
"""


def run(space: Path, jobs: int, trials: int, runs: Path) -> tuple[float, float]:
    """(trials/minute over the command, trials/minute over the trials) for `--jobs jobs`."""
    env = {**os.environ, "AUTOML_RUNS_DIR": str(runs), "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, "-m", "automl.cli", "tune", str(space), "--jobs", str(jobs),
           "--trials", str(trials), "--no-progress"]  # fmt: skip
    started = time.monotonic()
    finished = subprocess.run(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    if finished.returncode != 0:
        raise SystemExit(f"--jobs {jobs} failed (exit {finished.returncode}):\n{finished.stderr}")
    wall = time.monotonic() - started
    storage = JournalStorage(JournalFileBackend(str(runs / "scaling" / "journal.log")))
    done = optuna.load_study(study_name="scaling", storage=storage).trials
    states = {t.state.name for t in done}
    if states != {"COMPLETE"} or len(done) != trials:
        raise SystemExit(f"--jobs {jobs}: expected {trials} complete trials, got {states}")
    window = max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)
    return 60 * trials / wall, 60 * trials / window.total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rates: dict[int, list[tuple[float, float]]] = {jobs: [] for jobs in args.jobs}
    with tempfile.TemporaryDirectory() as tmp:
        space = Path(tmp) / "scaling.yaml"
        space.write_text(SPACE)
        for repeat in range(args.repeats):
            order = args.jobs if repeat % 2 == 0 else args.jobs[::-1]
            for jobs in order:
                runs = Path(tmp) / f"runs-{repeat}-{jobs}"
                rates[jobs].append(run(space, jobs, args.trials, runs))
                command, trials = rates[jobs][-1]
                print(f"repeat {repeat + 1}: --jobs {jobs}: {command:5.1f} trials/min over the "
                      f"command, {trials:5.1f} over the trials", flush=True)  # fmt: skip
    report(args, rates)


def report(args: argparse.Namespace, rates: dict[int, list[tuple[float, float]]]) -> None:
    base = args.jobs[0]
    med = {
        jobs: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        for jobs, runs in rates.items()
    }
    print(f"\n{os.cpu_count()} CPU cores; {args.trials} trials per run; medians over "
          f"{args.repeats} repeats")  # fmt: skip
    print("jobs  trials/min (command)  trials/min (trials)  ratio vs --jobs "
          f"{base} (command / trials)")  # fmt: skip
    for jobs, (command, trials) in med.items():
        print(f"{jobs:<4}  {command:20.1f}  {trials:19.1f}  "
              f"{command / med[base][0]:.2f}x / {trials / med[base][1]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
