"""Per-trial overhead of automl against a minimal hand-written Optuna + Keras loop.

Both run the same trials in one process, interleaved round by round: the same data split (digits,
seeded), the same model (the digits CNN: Conv-Pool-Dense-Dropout-Softmax with Adam), the same
sampled hyperparameters (random sampler, same seed), the same epochs, no early stopping, no
pruning. The hand-written loop reports Keras' `val_accuracy` to Optuna each epoch; automl computes
the chosen metric exactly on the validation split, saves the trial's checkpoint and writes to a
journal file. Both sides are timed the same way, from each Optuna trial's start to its completion.
Prints medians and the ratio.

    python benchmarks/overhead.py [--trials 6] [--epochs 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SPACE = """
study:
  {{name: overhead, metric: accuracy, trials: {trials}, seed: 0, sampler: random, pruner: none}}
data: {{source: {{sklearn: {{name: digits}}}}, validation: 0.2, test: 0.2}}
training: {{epochs: {epochs}, batch_size: 64, early_stopping: false}}
preprocessors: [min_max]
model:
  cnn: {{blocks: 2, filters: {{low: 16, high: 32}}, kernel_size: 3, pooling: max,
        dense_units: 64, dropout: 0.2}}
activation: relu
loss: crossentropy
optimizer:
  adam: {{learning_rate: {{low: 1.0e-3, high: 1.0e-2, log: true}}}}
"""


def hand_written(trials: int, epochs: int) -> list[float]:
    """The loop a user would write by hand: Optuna in memory, Keras, val_accuracy."""
    import keras
    import numpy as np
    import optuna
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.data.reshape(-1, 8, 8, 1).astype("float32") / 16.0
    y = digits.target
    x_rest, _, y_rest, _ = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    x_tr, x_val, y_tr, y_val = train_test_split(
        x_rest, y_rest, test_size=0.25, random_state=0, stratify=y_rest
    )

    def objective(trial: optuna.Trial) -> float:
        keras.utils.clear_session()
        filters = trial.suggest_int("filters", 16, 32)
        lr = trial.suggest_float("lr", 1e-3, 1e-2, log=True)
        inputs = keras.Input((8, 8, 1))
        h = inputs
        for block in range(2):
            h = keras.layers.Conv2D(filters * 2**block, 3, padding="same", activation="relu")(h)
            h = keras.layers.MaxPooling2D(2, padding="same")(h)
        h = keras.layers.Flatten()(h)
        h = keras.layers.Dense(64, activation="relu")(h)
        h = keras.layers.Dropout(0.2)(h)
        model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))
        model.compile(
            optimizer=keras.optimizers.Adam(lr),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

        class Report(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                trial.report(float(logs["val_accuracy"]), epoch)

        history = model.fit(
            x_tr,
            y_tr,
            validation_data=(x_val, y_val),
            epochs=epochs,
            batch_size=64,
            callbacks=[Report()],
            verbose=0,
        )
        return float(np.max(history.history["val_accuracy"]))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=trials)
    return [(t.datetime_complete - t.datetime_start).total_seconds() for t in study.trials]


def with_automl(trials: int, epochs: int, workdir: Path) -> list[float]:
    """The same trials through `automl.tune` (journal storage, checkpoints, exact metric)."""
    from automl.spec import load_spec
    from automl.study import tune

    path = workdir / "space.yaml"
    path.write_text(SPACE.format(trials=trials, epochs=epochs))
    os.environ["AUTOML_RUNS_DIR"] = str(workdir / f"runs-{time.time_ns()}")
    spec = load_spec(path)
    result = tune(spec, progress=False)
    return [(t.datetime_complete - t.datetime_start).total_seconds() for t in result.study.trials]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    hand_written(1, 1)  # warm up TensorFlow once so neither side pays the first-import cost
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            a = with_automl(args.trials, args.epochs, Path(tmp))
            b = hand_written(args.trials, args.epochs)
            ours += a
            theirs += b
            print(
                f"round {round_ + 1}: automl median {statistics.median(a):.3f}s/trial, "
                f"hand-written median {statistics.median(b):.3f}s/trial"
            )
    med_ours, med_theirs = statistics.median(ours), statistics.median(theirs)
    print(f"\n{args.trials} trials x {args.epochs} epochs x {args.rounds} rounds (digits CNN)")
    print(f"automl       median {med_ours:.3f} s/trial")
    print(f"hand-written median {med_theirs:.3f} s/trial")
    print(
        f"ratio automl / hand-written: {med_ours / med_theirs:.2f}x "
        f"(overhead {100 * (med_ours / med_theirs - 1):+.0f}% per trial)"
    )


if __name__ == "__main__":
    main()
