"""Per-trial overhead of automl against the Optuna + Keras loop a competent person would write.

    .venv/bin/python benchmarks/overhead.py                       # 8 trials x 5 epochs x 4 rounds
    .venv/bin/python benchmarks/overhead.py --trials 4 --epochs 2 --rounds 3   # a quick look

Both sides run in this process, round by round, alternating which goes first (ABBA...), and
train exactly the same thing:

- the same rows: the hand-written loop takes the train and validation arrays of automl's own
  partition of the digits (8x8x1, seeded), so not one row differs;
- the same models: Conv-ReLU-MaxPool x 2 (filters doubling), Flatten, Dense(64)-ReLU,
  Dropout(0.2), Dense(10, softmax), sparse cross-entropy, Adam; the script checks that both
  sides build models with the same weight count;
- the same hyperparameters: a seeded random sampler asked for the same names and distributions
  in the same order (the script checks every trial's parameters are equal);
- the same epochs (no early stopping, no pruner), batch size, weight seeds
  (`keras.utils.set_random_seed(seed + trial number)`) and CPU threads;
- the same scoring: loss-only `compile`, no `validation_data`, one forward pass over the
  validation rows per epoch, accuracy by scikit-learn, reported to the Optuna trial.

What automl does on top is the overhead measured: a journal file storage with a lock and
heartbeats, per-epoch validation loss, lifecycle hooks, user attributes, the top checkpoints
saved as `model.keras`. A trial's time is from its start to the next trial's start (so the work
between trials counts); the study's wall time is printed too (automl's includes reading the
space and loading the data), and its CPU time (process time, all threads), which other load on
the machine disturbs less. Prints per-round medians, then the medians over all rounds and their
ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SPACE = """
study:
  {{name: {name}, metric: accuracy, trials: {trials}, seed: 0, sampler: random, pruner: none}}
data: {{source: {{sklearn: {{name: digits}}}}, validation: 0.2, test: 0.2, folds: 1}}
training: {{epochs: {epochs}, batch_size: 64, early_stopping: false}}
preprocessors: []
model:
  cnn: {{blocks: 2, filters: {{low: 16, high: 32}}, kernel_size: 3, pooling: max,
        dense_units: 64, dropout: 0.2}}
activation: relu
loss: crossentropy
optimizer:
  adam: {{learning_rate: {{low: 1.0e-3, high: 1.0e-2, log: true}}}}
"""


@dataclass
class Run:
    """One side's study in one round: the study, its wall and CPU seconds, model sizes."""

    study: Any
    wall: float
    cpu: float
    weights: list[int]


def write_space(work: Path, name: str, trials: int, epochs: int) -> Path:
    path = work / f"{name}.yaml"
    path.write_text(SPACE.format(name=name, trials=trials, epochs=epochs))
    return path


def trial_times(study: Any) -> list[float]:
    """Seconds per trial: start to the next trial's start; the last one to its completion."""
    starts = [t.datetime_start for t in study.trials]
    ends = [*starts[1:], study.trials[-1].datetime_complete]
    return [(end - start).total_seconds() for start, end in zip(starts, ends, strict=True)]


def hand_written_model(filters: int, lr: float) -> Any:
    """The digits CNN, written out by hand."""
    import keras

    inputs = keras.Input((8, 8, 1))
    h = inputs
    for block in range(2):
        h = keras.layers.Conv2D(filters * 2**block, 3, padding="same")(h)
        h = keras.layers.Activation("relu")(h)
        h = keras.layers.MaxPooling2D(2, padding="same")(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Activation("relu")(keras.layers.Dense(64)(h))
    h = keras.layers.Dropout(0.2)(h)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy")
    return model


def hand_written(data: dict[str, Any], trials: int, epochs: int) -> Run:
    """The loop a competent person writes: Optuna in memory, Keras, one scoring pass per epoch."""
    import keras
    import numpy as np
    import optuna
    from sklearn.metrics import accuracy_score

    weights: list[int] = []

    def objective(trial: optuna.Trial) -> float:
        keras.utils.clear_session(free_memory=True)
        keras.utils.set_random_seed(trial.number)  # study seed 0 + trial number, as automl
        filters = trial.suggest_int("model.cnn.filters", 16, 32)
        lr = trial.suggest_float("optimizer.adam.learning_rate", 1e-3, 1e-2, log=True)
        model = hand_written_model(filters, lr)
        weights.append(model.count_params())
        scores: list[float] = []

        class Score(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                proba = keras.ops.convert_to_numpy(model(data["x_val"], training=False))
                scores.append(accuracy_score(data["y_val"], np.argmax(proba, axis=1)))
                trial.report(scores[-1], epoch)

        model.fit(
            data["x_train"], data["y_train"], epochs=epochs, batch_size=64,
            callbacks=[Score()], verbose=0,
        )  # fmt: skip
        return scores[-1]

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    # automl's first trial is every declared default (known-good first): so is this one's
    study.enqueue_trial({"model.cnn.filters": 32, "optimizer.adam.learning_rate": 1e-3})
    started, cpu = time.perf_counter(), time.process_time()
    study.optimize(objective, n_trials=trials)
    return Run(study, time.perf_counter() - started, time.process_time() - cpu, weights)


def with_automl(space: Path, runs: Path) -> Run:
    """The same trials through `automl.tune` (journal storage, checkpoints, hooks)."""
    from automl.data import load_splits
    from automl.plugins import load_catalog
    from automl.space import TrialConfig
    from automl.spec import load_spec
    from automl.study import tune
    from automl.trial import build_model

    os.environ["AUTOML_RUNS_DIR"] = str(runs)
    started, cpu = time.perf_counter(), time.process_time()
    result = tune(space, progress=False)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    catalog = load_catalog()
    spec = load_spec(space, catalog=catalog)
    splits = load_splits(spec, catalog)
    configs = [TrialConfig.from_json(t.user_attrs["config"]) for t in result.study.trials]
    weights = [build_model(config, splits, catalog).count_params() for config in configs]
    return Run(result.study, wall, cpu, weights)


def automl_data(space: Path) -> dict[str, Any]:
    """The train and validation arrays of automl's own partition of the space's data."""
    from automl.data import load_splits
    from automl.spec import open_space

    splits = load_splits(*open_space(space))
    arrays = ("x_train", "y_train", "x_val", "y_val")
    return {name: getattr(splits, name).astype("float32" if name[0] == "x" else "int64")
            for name in arrays}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    times: dict[str, list[float]] = {"automl": [], "hand-written": []}
    walls: dict[str, list[float]] = {"automl": [], "hand-written": []}
    cpus: dict[str, list[float]] = {"automl": [], "hand-written": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = automl_data(write_space(work, "data", args.trials, args.epochs))
        hand_written(data, 1, 1)  # warm up TensorFlow once so neither side pays its first use
        for round_ in range(args.rounds):
            space = write_space(work, f"overhead-{round_}", args.trials, args.epochs)
            order = ["automl", "hand-written"][:: 1 if round_ % 2 == 0 else -1]
            runs: dict[str, Run] = {}
            for side in order:
                if side == "automl":
                    runs[side] = with_automl(space, work / "runs")
                else:
                    runs[side] = hand_written(data, args.trials, args.epochs)
            check_same_trials(runs)
            line = []
            for side, run in runs.items():
                times[side] += trial_times(run.study)
                walls[side].append(run.wall)
                cpus[side].append(run.cpu / args.trials)
                line.append(f"{side} {statistics.median(trial_times(run.study)):.3f}s")
            print(f"round {round_ + 1} ({' first, '.join(order)} second): median per trial: "
                  + ", ".join(line), flush=True)  # fmt: skip
    report(args, times, walls, cpus)


def check_same_trials(runs: dict[str, Run]) -> None:
    """Both sides trained the same models with the same hyperparameters, or the run is void."""
    ours, theirs = runs["automl"], runs["hand-written"]
    ours_params = [{k: v for k, v in t.params.items() if "." in k} for t in ours.study.trials]
    theirs_params = [t.params for t in theirs.study.trials]
    if ours_params != theirs_params or ours.weights != theirs.weights:
        raise SystemExit(
            "the two sides did not train the same models: "
            f"automl {ours_params} ({ours.weights} weights), hand-written {theirs_params} "
            f"({theirs.weights} weights)"
        )


def report(
    args: argparse.Namespace,
    times: dict[str, list[float]],
    walls: dict[str, list[float]],
    cpus: dict[str, list[float]],
) -> None:
    med = {side: statistics.median(values) for side, values in times.items()}
    wall = {side: statistics.median(values) for side, values in walls.items()}
    cpu = {side: statistics.median(values) for side, values in cpus.items()}
    print(f"\n{args.trials} trials x {args.epochs} epochs x {args.rounds} rounds (digits CNN), "
          f"{os.cpu_count()} CPU cores")  # fmt: skip
    for side in times:
        print(f"{side:<13} median {med[side]:.3f} s/trial, study {wall[side]:.2f} s, "
              f"{cpu[side]:.3f} CPU s per study / trials")  # fmt: skip
    ratio = med["automl"] / med["hand-written"]
    print(f"ratio automl / hand-written per trial: {ratio:.3f}x ({100 * (ratio - 1):+.1f}%)")
    whole = wall["automl"] / wall["hand-written"]
    print(f"ratio over the whole study (automl reads the space, loads the data): {whole:.3f}x")
    cpu_ratio = cpu["automl"] / cpu["hand-written"]
    print(f"ratio of CPU time per study (this process, all threads; automl's includes its "
          f"setup; less sensitive to other load): {cpu_ratio:.3f}x")  # fmt: skip


if __name__ == "__main__":
    main()
