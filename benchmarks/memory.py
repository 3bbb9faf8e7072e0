"""Resident memory over many small trials: automl in-process, automl with `isolation: process`,
and a bare Keras loop training the same models on the same rows.

    .venv/bin/python benchmarks/memory.py                          # 100 trials, 3 repeats
    .venv/bin/python benchmarks/memory.py --trials 30 --isolated-trials 8 --repeats 3  # quicker

Each variant runs in a fresh Python process, one after another; the order rotates between
repeats (A B C, B C A, C A B). All three train the same models: an MLP on the digits (64
columns), 1 epoch, the hyperparameters drawn by a seeded random sampler from the same names and
distributions (the script checks they are equal for in-process automl and the bare loop; an
isolated trial samples in its own process, seeded by its number), weights seeded per trial, on
the train rows of automl's own split (written to an .npz the bare loop reads).

- in-process: a lifecycle plugin records the worker's resident set size (VmRSS) after every
  trial;
- `isolation: process`: the same for the worker, which only asks, beats and tells, plus the
  peak resident set (VmHWM) of every trial's own process, recorded inside it at each epoch end;
- bare Keras: the same models in a plain loop (`clear_session`, build, compile, fit, one
  scoring pass), VmRSS after every trial.

Prints per repeat, then the medians over the repeats: RSS at trial 10 and at the end, the growth
between them, and automl's growth minus the bare loop's (target: at most +50 MB over 100 trials).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SPACE = """
study:
  name: memory
  trials: {trials}
  sampler: random
  pruner: none
  seed: 0
  keep_checkpoints: 1
  isolation: {mode}
plugins: [rss_plugin.py]
data: {{source: {{sklearn: {{name: digits, images: false}}}}, folds: 1}}
training: {{epochs: 1, batch_size: 64, early_stopping: false}}
preprocessors: []
model: {{mlp: {{layers: {{low: 1, high: 3}}, units: {{low: 16, high: 128}}, dropout: 0.0}}}}
activation: relu
loss: crossentropy
optimizer:
  adam: {{learning_rate: {{low: 1.0e-3, high: 1.0e-2, log: true}}}}
"""

RSS = """
def status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0
"""

PLUGIN = (
    RSS
    + """
import json, os
from automl import hookimpl

def _write(name, row):
    with open(os.path.join(os.environ["AUTOML_BENCH_OUT"], name), "a") as out:
        out.write(json.dumps(row) + "\\n")

@hookimpl
def on_epoch_end(trial, epoch, logs):  # in the trial's own process (isolated or not)
    _write("peak.jsonl", {"trial": trial.number, "peak_kib": status_kib("VmHWM")})

@hookimpl
def on_trial_end(trial):  # in the worker process
    _write("rss.jsonl", {"trial": trial.number, "rss_kib": status_kib("VmRSS"),
                         "params": trial.params, "state": trial.state.name})
"""
)

BARE = (
    RSS
    + """
import json, os, sys
import keras, numpy as np, optuna
from sklearn.metrics import accuracy_score

data = np.load(os.path.join(os.environ["AUTOML_BENCH_OUT"], "rows.npz"))
out = open(os.path.join(os.environ["AUTOML_BENCH_OUT"], "rss.jsonl"), "a")
optuna.logging.set_verbosity(optuna.logging.WARNING)

def objective(trial):
    keras.utils.clear_session(free_memory=True)
    keras.utils.set_random_seed(trial.number)
    layers = trial.suggest_int("model.mlp.layers", 1, 3)
    units = trial.suggest_int("model.mlp.units", 16, 128)
    lr = trial.suggest_float("optimizer.adam.learning_rate", 1e-3, 1e-2, log=True)
    inputs = keras.Input((64,))
    h = inputs
    for _ in range(layers):
        h = keras.layers.Activation("relu")(keras.layers.Dense(units)(h))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy")
    model.fit(data["x_train"], data["y_train"], epochs=1, batch_size=64, verbose=0)
    proba = keras.ops.convert_to_numpy(model(data["x_val"], training=False))
    score = accuracy_score(data["y_val"], proba.argmax(axis=1))
    return score

def record(study, trial):
    row = {"trial": trial.number, "rss_kib": status_kib("VmRSS"), "params": trial.params,
           "state": trial.state.name}
    out.write(json.dumps(row) + "\\n")
    out.flush()

study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
# automl's first trial is every declared default (known-good first): so is this one's
study.enqueue_trial({"model.mlp.layers": 2, "model.mlp.units": 128,
                     "optimizer.adam.learning_rate": 1e-3})
study.optimize(objective, n_trials=int(sys.argv[1]), callbacks=[record])
"""
)

VARIANTS = ("in-process", "isolated", "bare keras")


def write_rows(work: Path) -> None:
    """automl's own train/validation split of the space's data, for the bare loop."""
    import numpy as np

    from automl.data import load_splits
    from automl.spec import open_space

    (work / "rss_plugin.py").write_text(PLUGIN)
    (work / "rows.yaml").write_text(SPACE.format(trials=1, mode="none"))
    splits = load_splits(*open_space(work / "rows.yaml"))
    np.savez(work / "rows.npz", x_train=splits.x_train, y_train=splits.y_train,
             x_val=splits.x_val, y_val=splits.y_val)  # fmt: skip


def run_variant(variant: str, trials: int, work: Path) -> dict[str, list]:
    """Run one variant in a fresh process; its per-trial records."""
    out = work / variant.replace(" ", "-")
    out.mkdir()
    env = {**os.environ, "AUTOML_RUNS_DIR": str(out / "runs"), "AUTOML_BENCH_OUT": str(out),
           "TF_CPP_MIN_LOG_LEVEL": "3"}  # fmt: skip
    if variant == "bare keras":
        (out / "rows.npz").symlink_to(work / "rows.npz")
        cmd = [sys.executable, "-c", BARE, str(trials)]
    else:
        (out / "rss_plugin.py").write_text(PLUGIN)
        space = out / "space.yaml"
        mode = "process" if variant == "isolated" else "none"
        space.write_text(SPACE.format(trials=trials, mode=mode))
        cmd = [sys.executable, "-c", f"from automl.study import tune; tune({str(space)!r}, "
               "progress=False)"]  # fmt: skip
    subprocess.run(cmd, env=env, check=True)
    rows = sorted(map(json.loads, (out / "rss.jsonl").read_text().splitlines()),
                  key=lambda r: r["trial"])  # fmt: skip
    peaks: dict[int, int] = {}
    if (out / "peak.jsonl").exists():
        for row in map(json.loads, (out / "peak.jsonl").read_text().splitlines()):
            peaks[row["trial"]] = max(peaks.get(row["trial"], 0), row["peak_kib"])
    return {
        "rss": [r["rss_kib"] / 1024 for r in rows],
        "params": [r["params"] for r in rows],
        "states": [r["state"] for r in rows],
        "peaks": [peaks[r["trial"]] / 1024 for r in rows if r["trial"] in peaks],
    }


def summary(rss: list[float]) -> tuple[float, float, float]:
    """RSS at trial 10 (or the first when fewer), at the end, and the growth between them."""
    start = rss[min(10, len(rss)) - 1]
    return start, rss[-1], rss[-1] - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=100, help="in-process and bare trials")
    parser.add_argument("--isolated-trials", type=int, default=20, help="isolated trials")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    growth: dict[str, list[float]] = {v: [] for v in VARIANTS}
    ends: dict[str, list[float]] = {v: [] for v in VARIANTS}
    peaks: list[float] = []
    for repeat in range(args.repeats):
        order = VARIANTS[repeat % 3 :] + VARIANTS[: repeat % 3]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            write_rows(work)
            results = {}
            for variant in order:
                trials = args.isolated_trials if variant == "isolated" else args.trials
                print(f"repeat {repeat + 1}: {variant}, {trials} trials ...", flush=True)
                results[variant] = run_variant(variant, trials, work)
        check_same(results)
        for variant, result in results.items():
            start, end, grew = summary(result["rss"])
            growth[variant].append(grew)
            ends[variant].append(end)
            k = min(10, len(result["rss"]))
            print(f"  {variant:<11} RSS after trial {k} {start:7.0f} MiB, at the end {end:7.0f} "
                  f"MiB, growth {grew:+7.1f} MiB")  # fmt: skip
        peaks.append(max(results["isolated"]["peaks"]))
        print(f"  isolated: peak RSS of a trial process {peaks[-1]:.0f} MiB", flush=True)
    report(args, growth, ends, peaks)


def check_same(results: dict[str, dict[str, list]]) -> None:
    """In-process automl and the bare loop trained the same hyperparameters trial by trial, and
    no trial failed. (An isolated trial samples in its own process with a sampler seeded by its
    number, so its values differ; the distributions are the same.)"""
    if results["in-process"]["params"] != results["bare keras"]["params"]:
        raise SystemExit("automl in-process sampled other hyperparameters than the bare loop")
    for variant in results:
        bad = [s for s in results[variant]["states"] if s != "COMPLETE"]
        if bad:
            raise SystemExit(f"{variant}: {len(bad)} trials did not complete: {bad[:3]}")


def report(
    args: argparse.Namespace,
    growth: dict[str, list[float]],
    ends: dict[str, list[float]],
    peaks: list[float],
) -> None:
    med = {v: statistics.median(g) for v, g in growth.items()}
    end = {v: statistics.median(e) for v, e in ends.items()}
    print(f"\nmedians over {args.repeats} repeats (digits MLP, 1 epoch per trial)")
    for variant in VARIANTS:
        trials = args.isolated_trials if variant == "isolated" else args.trials
        print(f"{variant:<11} {trials:4d} trials: worker RSS at the end {end[variant]:6.0f} MiB, "
              f"growth after trial {min(10, trials)} {med[variant]:+7.1f} MiB")  # fmt: skip
    print(f"isolated: peak RSS of the trial processes {statistics.median(peaks):.0f} MiB "
          f"(median over repeats of the largest)")  # fmt: skip
    extra = med["in-process"] - med["bare keras"]
    print(f"automl in-process growth minus the bare loop's: {extra:+.1f} MiB over "
          f"{args.trials} trials (target: <= +50 MB)")  # fmt: skip


if __name__ == "__main__":
    main()
