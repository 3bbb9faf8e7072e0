"""Resident memory of one worker across many small trials, with and without `isolation: process`.

    .venv/bin/python benchmarks/memory.py            # 100 trials per mode
    .venv/bin/python benchmarks/memory.py --trials 30

Each mode runs `automl.tune` in a fresh Python process on the same tiny space (an MLP on the
8x8 digits, 1 epoch). A lifecycle plugin records the worker's resident set size (VmRSS) after
every trial. With `isolation: process` the worker only asks, beats and tells: each trial's model
lives and dies in its own process, so the worker's memory stays where it started.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SPACE = """
study:
  name: memory-{mode}
  trials: {trials}
  sampler: random
  pruner: none
  keep_checkpoints: 1
  isolation: {mode}
plugins: [rss_plugin.py]
data:
  source: {{sklearn: {{name: digits}}}}
training:
  epochs: 1
  batch_size: 64
  early_stopping: false
model:
  mlp: {{layers: {{low: 1, high: 3}}, units: {{low: 16, high: 128}}}}
loss: crossentropy
optimizer:
  adam: {{learning_rate: {{low: 1.0e-3, high: 1.0e-2, log: true}}}}
"""

PLUGIN = """
import os
from automl import hookimpl

def _rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

@hookimpl
def on_trial_end(trial):
    with open(os.environ["AUTOML_BENCH_RSS"], "a") as out:
        out.write(f"{trial.number} {_rss_kib()} {trial.state.name}\\n")
"""


def measure(mode: str, trials: int, work: Path) -> list[float]:
    """RSS (MiB) of the worker after each trial, in trial order."""
    folder = work / mode
    folder.mkdir()
    (folder / "rss_plugin.py").write_text(PLUGIN)
    space = folder / "space.yaml"
    space.write_text(SPACE.format(mode=mode, trials=trials))
    rss = folder / "rss.txt"
    env = {
        **os.environ,
        "AUTOML_RUNS_DIR": str(folder / "runs"),
        "AUTOML_BENCH_RSS": str(rss),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    code = f"from automl.study import tune; tune({str(space)!r}, progress=False)"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    rows = [line.split() for line in rss.read_text().splitlines()]
    return [int(kib) / 1024 for _, kib, _ in sorted(rows, key=lambda r: int(r[0]))]


BARE_KERAS = """
import os, sys
import keras, numpy as np
from sklearn.datasets import load_digits

digits = load_digits()
x, y = digits.data.astype("float32") / 16.0, digits.target
rng = np.random.default_rng(0)
with open(os.environ["AUTOML_BENCH_RSS"], "a") as out:
    for number in range({trials}):
        keras.utils.clear_session(free_memory=True)
        inputs = keras.Input((64,))
        h = inputs
        for _ in range(int(rng.integers(1, 4))):
            h = keras.layers.Dense(int(rng.integers(16, 129)), activation="relu")(h)
        model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=64, verbose=0)
        rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS"))
        out.write(f"{{number}} {{rss}} COMPLETE\\n")
"""


def measure_bare_keras(trials: int, work: Path) -> list[float]:
    """The same kind of models in a bare Keras loop (no automl): TensorFlow's own growth."""
    folder = work / "bare"
    folder.mkdir()
    rss = folder / "rss.txt"
    env = {**os.environ, "AUTOML_BENCH_RSS": str(rss), "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-c", BARE_KERAS.format(trials=trials)], env=env, check=True)
    rows = [line.split() for line in rss.read_text().splitlines()]
    return [int(kib) / 1024 for _, kib, _ in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("none", "process"):
            print(f"isolation: {mode}: {args.trials} trials ...", flush=True)
            results[mode] = measure(mode, args.trials, Path(tmp))
        print(f"bare Keras loop (no automl): {args.trials} fits ...", flush=True)
        results["bare keras"] = measure_bare_keras(args.trials, Path(tmp))
    n = args.trials
    marks = sorted({1, min(10, n), n // 2, n})
    print(f"\nWorker resident memory (MiB) after trial k of {n}, tiny digits MLP, 1 epoch")
    print("isolation   " + "  ".join(f"k={k:<5}" for k in marks) + "  growth k=10..end")
    for mode, rss in results.items():
        start = rss[min(10, n) - 1]
        cells = "  ".join(f"{rss[k - 1]:7.0f}" for k in marks)
        print(f"{mode:<10}  {cells}  {rss[-1] - start:+8.1f} MiB")
    grow = {m: r[-1] - r[min(10, n) - 1] for m, r in results.items()}
    print(
        f"\nratio of the worker's RSS at the end, none / process: "
        f"{results['none'][-1] / results['process'][-1]:.2f}x; growth after trial 10: "
        f"{grow['none']:+.1f} MiB without isolation, {grow['process']:+.1f} MiB with it, "
        f"{grow['bare keras']:+.1f} MiB for a bare Keras loop (TensorFlow keeps per-model state)"
    )


if __name__ == "__main__":
    main()
