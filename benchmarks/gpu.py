"""automl on a GPU: throughput inside a trial, packed small trials, JAX's compilation cache.

    .venv/bin/python benchmarks/gpu.py                  # on a machine with a GPU
    .venv/bin/python benchmarks/gpu.py --cpu --quick    # the same code on the CPU (development)

Without a visible GPU (nvidia-smi lists none, or CUDA_VISIBLE_DEVICES is empty) it measures
nothing: it says so and exits with status 2, unless `--cpu` asks for the CPU on purpose (every
figure is then labelled CPU and says nothing about GPUs).

1. Samples per second inside a trial vs a raw `model.fit` of the same model on the same rows
   (a CNN on 32x32x3 images, batch 256): the median epoch after the first (the first compiles),
   timed by a lifecycle plugin inside the trial and by a callback around the raw fit; automl's
   epoch includes its exact validation scoring. Target: >= 0.95x. Interleaved, 3 repeats.
2. Trials per hour with K small trials packed on one GPU (`--gpus 0 --trials-per-gpu K`) vs
   one at a time (`--gpus 0`), on a small MLP: over the trials (first start to last end).
   Target: >= 6x for K = 8. Alternating order, 3 repeats.
3. First-epoch time of a trial under KERAS_BACKEND=jax in a fresh process, with an empty
   compilation cache vs with the cache a previous process filled (runs/<study>/jax_cache).
   3 repeats. Skipped when JAX is not installed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# a lifecycle plugin: wall-clock time at each trial start and epoch end, one JSON line each
TIMER = """
import json, os, time
from automl import hookimpl

def _write(row):
    with open(os.environ["AUTOML_BENCH_TIMES"], "a") as out:
        out.write(json.dumps(row) + "\\n")

@hookimpl
def on_trial_start(trial, config):
    _write({"trial": trial.number, "event": "start", "t": time.time()})

@hookimpl
def on_epoch_end(trial, epoch, logs):
    _write({"trial": trial.number, "event": "epoch", "epoch": epoch, "t": time.time()})
"""

CNN_SPACE = """
study: {{name: {name}, trials: {trials}, sampler: random, pruner: none, seed: 0,
        keep_checkpoints: 1}}
plugins: [timer.py]
data: {{source: {{npz: {{path: {data}}}}}, folds: 1, test: 0.1, validation: 0.1}}
training: {{epochs: {epochs}, batch_size: {batch}, early_stopping: false}}
preprocessors: []
model: {{{model}}}
activation: relu
optimizer: {{adam: {{learning_rate: 0.001}}}}
"""
CNN = "cnn: {blocks: 2, filters: 32, kernel_size: 3, pooling: max, dense_units: 128, dropout: 0}"
MLP = "mlp: {layers: 2, units: 64, dropout: 0}"


def gpu_present() -> bool:
    from automl.parallel.devices import visible_gpus

    return bool(visible_gpus())


def make_data(path: Path, rows: int, shape: tuple[int, ...]) -> None:
    """Learnable synthetic data: the class is the sign of the mean of the first channel."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, *shape)).astype("float32")
    y = (x[..., 0].reshape(rows, -1).mean(axis=1) > 0).astype("int64")
    np.savez(path, x=x, y=y)


def tune(
    work: Path, name: str, args: list[str], env: dict[str, str] | None = None, **fmt: object
) -> list[dict]:
    """`automl tune` of a generated space in a fresh process; the timer plugin's rows."""
    (work / "timer.py").write_text(TIMER)
    space = work / f"{name}.yaml"
    space.write_text(CNN_SPACE.format(name=name, **fmt))
    times = work / f"{name}-{time.time_ns()}.jsonl"
    env = {**os.environ, "AUTOML_RUNS_DIR": str(work / "runs"), "AUTOML_BENCH_TIMES": str(times),
           "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}  # fmt: skip
    cmd = [sys.executable, "-m", "automl.cli", "tune", str(space), "--no-progress", *args]
    done = subprocess.run(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {done.returncode}):\n{done.stderr}")
    return [json.loads(line) for line in times.read_text().splitlines()]


def epoch_seconds(rows: list[dict], trial: int = 0) -> list[float]:
    ends = [r["t"] for r in rows if r["trial"] == trial and r["event"] == "epoch"]
    start = next(r["t"] for r in rows if r["trial"] == trial and r["event"] == "start")
    return [b - a for a, b in zip([start, *ends], ends, strict=False)]


RAW_FIT = """
import json, sys, time
import keras, numpy as np
data = np.load(sys.argv[1]); epochs, batch = int(sys.argv[2]), int(sys.argv[3])
x, y = data["x"][: int(0.8 * len(data["x"]))], data["y"][: int(0.8 * len(data["y"]))]
keras.utils.set_random_seed(0)
h = inputs = keras.Input(x.shape[1:])
for block in range(2):
    h = keras.layers.Activation("relu")(keras.layers.Conv2D(32 * 2**block, 3, padding="same")(h))
    h = keras.layers.MaxPooling2D(2, padding="same")(h)
h = keras.layers.Activation("relu")(keras.layers.Dense(128)(keras.layers.Flatten()(h)))
model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
ends = []
class T(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None): ends.append(time.time())
start = time.time()
model.fit(x, y, epochs=epochs, batch_size=batch, callbacks=[T()], verbose=0)
print(json.dumps({"epochs": [b - a for a, b in zip([start] + ends, ends)], "rows": len(x)}))
"""


def throughput(work: Path, quick: bool) -> None:
    rows, epochs, batch = (4000, 3, 256) if quick else (40000, 6, 256)
    data = work / "images.npz"
    make_data(data, rows, (32, 32, 3))
    ratios = []
    for repeat in range(3):
        sides = ["automl", "raw"] if repeat % 2 == 0 else ["raw", "automl"]
        rate = {}
        for side in sides:
            if side == "automl":
                timed = tune(work, f"fit{repeat}", [], trials=1, data=data, epochs=epochs,
                             batch=batch, model=CNN)  # fmt: skip
                test = math.ceil(0.1 * rows)  # scikit-learn's split sizes, as automl's
                train_rows = rows - test - math.ceil(0.1 / 0.9 * (rows - test))
                rate[side] = train_rows / statistics.median(epoch_seconds(timed)[1:])
            else:
                out = subprocess.run(
                    [sys.executable, "-c", RAW_FIT, str(data), str(epochs), str(batch)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                raw = json.loads(out.stdout.strip().splitlines()[-1])
                rate[side] = raw["rows"] / statistics.median(raw["epochs"][1:])
        ratios.append(rate["automl"] / rate["raw"])
        print(f"repeat {repeat + 1}: samples/s automl {rate['automl']:.0f}, raw fit "
              f"{rate['raw']:.0f}: {ratios[-1]:.3f}x", flush=True)  # fmt: skip
    print(f"samples/s inside a trial / raw model.fit: median {statistics.median(ratios):.3f}x "
          "(target >= 0.95x)\n")  # fmt: skip


def packing(work: Path, quick: bool, per_gpu: int) -> None:
    trials = 2 * per_gpu if quick else 4 * per_gpu
    data = work / "table.npz"
    make_data(data, 2000, (32,))
    rates: dict[int, list[float]] = {1: [], per_gpu: []}
    for repeat in range(3):
        for k in [1, per_gpu] if repeat % 2 == 0 else [per_gpu, 1]:
            timed = tune(work, f"pack{repeat}k{k}", ["--gpus", "0", "--trials-per-gpu", str(k),
                         "--trials", str(trials)], trials=trials, data=data, epochs=5,
                         batch=64, model=MLP)  # fmt: skip
            starts = [r["t"] for r in timed if r["event"] == "start"]
            ends = [r["t"] for r in timed if r["event"] == "epoch"]
            rates[k].append(3600 * trials / (max(ends) - min(starts)))
            print(f"repeat {repeat + 1}: --trials-per-gpu {k}: {rates[k][-1]:.0f} trials/hour",
                  flush=True)  # fmt: skip
    ratio = statistics.median(rates[per_gpu]) / statistics.median(rates[1])
    print(f"trials/hour, {per_gpu} packed vs 1: median {ratio:.2f}x (target >= 6x for 8)\n")


def compile_cache(work: Path, quick: bool) -> None:
    try:
        import jax  # noqa: F401
    except ImportError:
        print("JAX compilation cache: skipped (jax is not installed: pip install jax)")
        return
    data = work / "images.npz"
    if not data.exists():
        make_data(data, 2000, (32, 32, 3))
    cold, warm = [], []
    env = {"KERAS_BACKEND": "jax"}
    for repeat in range(3):
        name = f"cache{repeat}"  # a new study: an empty runs/<study>/jax_cache
        first = tune(work, name, ["--trials", "1"], trials=2, data=data, epochs=1, batch=256,
                     model=CNN, env=env)  # fmt: skip
        second = tune(work, name, ["--trials", "2"], trials=2, data=data, epochs=1, batch=256,
                      model=CNN, env=env)  # fmt: skip
        cold.append(epoch_seconds(first, 0)[0])
        warm.append(epoch_seconds(second, 1)[0])
        print(f"repeat {repeat + 1}: first epoch {cold[-1]:.2f}s with an empty cache, "
              f"{warm[-1]:.2f}s with the cache", flush=True)  # fmt: skip
    print(f"first epoch, JAX: median {statistics.median(cold):.2f}s without the cache, "
          f"{statistics.median(warm):.2f}s with it\n")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", action="store_true", help="run on the CPU (development only)")
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer trials")
    parser.add_argument("--trials-per-gpu", type=int, default=8)
    parser.add_argument("--only", choices=("throughput", "packing", "cache"))
    args = parser.parse_args()
    if not gpu_present() and not args.cpu:
        print("no GPU is visible (nvidia-smi lists none, or CUDA_VISIBLE_DEVICES is empty): "
              "nothing measured. Run on a machine with a GPU, or pass --cpu to exercise the "
              "same code on the CPU.", file=sys.stderr)  # fmt: skip
        sys.exit(2)
    print(f"device: {'CPU (--cpu: no GPU figure)' if args.cpu else 'GPU'}; "
          f"backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}\n")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        steps = {"throughput": lambda: throughput(work, args.quick),
                 "packing": lambda: packing(work, args.quick, args.trials_per_gpu),
                 "cache": lambda: compile_cache(work, args.quick)}  # fmt: skip
        for name, step in steps.items():
            if args.only in (None, name):
                step()


if __name__ == "__main__":
    main()
