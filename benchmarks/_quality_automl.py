"""automl as a user runs it, for `benchmarks/quality.py`: a short YAML, the CLI, the exported model.

The only module of the benchmark that touches automl: `automl tune` and `automl export` run as
subprocesses on a YAML written by `automl_space` (one function for every task, so the spaces are
visibly uniform: the families that fit, each with its DEFAULT ranges, and everything else left
to automl's defaults), and the exported model is scored in another subprocess through the public
`automl.load(DIR)` (run this file as a script: `score DIR X.npz OUT.npz`). Nothing here sets
`data.folds` or the export kind: the benchmark measures automl's defaults;
`--automl-yaml-extra KEY=VALUE` tries variants.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

FAMILIES = {
    "tabular": ["mlp"],
    "images": ["mlp", "cnn"],
    "sequences": ["mlp", "lstm", "gru", "cnn1d"],
}
PREPROCESSOR = {"tabular": "standardize", "images": "min_max", "sequences": "standardize"}
# the card key of automl's estimate of the exported model, in order of preference: `estimate`
# (mean and std over folds of the exported model's out-of-fold predictions; the validation score
# of a hold-out study), else the best trial's own `validation_score` (cards of automl <= 0.2)
ESTIMATE_KEYS = ("estimate", "validation_score")


class AutomlRunError(RuntimeError):
    """An automl command failed; the message names the command, its exit status and log tail."""


def automl_space(
    task: Any, data_file: str, trials: int, seed: int, epochs: int | None = None
) -> dict[str, Any]:
    """The YAML a user would write for `task` (a `_quality_tasks.Task`), as a dict.

    Args:
        task: the benchmark task (its kind decides families and preprocessing).
        data_file: the NPZ with the train split only (`x`, `y`).
        trials: `study.trials`.
        seed: `study.seed`.
        epochs: `training.epochs`; None keeps automl's default. Defaults to `None`.
    """
    source: dict[str, Any] = {"path": data_file}
    if task.kind == "images":
        source["images"] = True  # (n, 8, 8) -> (n, 8, 8, 1)
    space: dict[str, Any] = {
        "study": {
            "name": f"quality-{task.name}",
            "metric": task.metric.name,
            "trials": trials,
            "seed": seed,
        },
        "data": {"source": {"npz": source}, "test": 0},  # the benchmark holds out the real test
        "preprocessors": [PREPROCESSOR[task.kind]],
        "model": {family: {} for family in FAMILIES[task.kind]},
    }
    training: dict[str, Any] = {}
    if epochs is not None:
        training["epochs"] = epochs
    if task.imbalanced:
        training["class_weight"] = "balanced"  # as the sklearn baseline and KerasTuner get
    if training:
        space["training"] = training
    return space


def parse_extra(item: str) -> tuple[list[str], Any]:
    """`--automl-yaml-extra` `a.b.c=VALUE` -> (["a", "b", "c"], VALUE parsed as YAML)."""
    key, sep, raw = item.partition("=")
    keys = key.strip().split(".")
    if not sep or not all(keys):
        raise ValueError(
            f"--automl-yaml-extra: expected KEY=VALUE with a dotted KEY (e.g. data.folds=1). "
            f"Received: {item!r}"
        )
    return keys, yaml.safe_load(raw)


def apply_extras(space: dict[str, Any], extras: list[str]) -> dict[str, Any]:
    """A copy of `space` with each `KEY=VALUE` set (missing mappings are created)."""
    out = json.loads(json.dumps(space))
    for item in extras:
        keys, value = parse_extra(item)
        node = out
        for depth, key in enumerate(keys[:-1]):
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                where = ".".join(keys[: depth + 1])
                raise ValueError(
                    f"--automl-yaml-extra {item!r}: {where} is {child!r} in the generated YAML, "
                    f"expected a mapping to set {keys[depth + 1]!r} in"
                )
            node = child
        node[keys[-1]] = value
    return out


def _automl_command() -> list[str]:
    script = Path(sys.executable).with_name("automl")
    if script.exists():
        return [str(script)]
    found = shutil.which("automl")
    if found:
        return [found]
    raise AutomlRunError(
        f"benchmarks/quality.py: the `automl` command was not found next to {sys.executable} "
        "nor on PATH; install the project (`pip install -e .`) in this environment"
    )


def _run(args: list[str], log: Path, env: dict[str, str], errors: Path | None = None) -> float:
    """Run a command with its output in `log` (stderr in `errors` if given); its seconds."""
    started = time.perf_counter()
    with log.open("w") as out, contextlib.ExitStack() as stack:
        err: Any = stack.enter_context(errors.open("w")) if errors else subprocess.STDOUT
        done = subprocess.run(args, stdout=out, stderr=err, env=env, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        lines = [x for x in (errors or log).read_text(errors="replace").splitlines() if x.strip()]
        last = lines[-1] if lines else "no output"
        tail = "\n".join(lines[-15:])
        raise AutomlRunError(
            f"`{' '.join(args)}` exited with status {done.returncode} after {took:.0f}s: "
            f"{last} (full log: {errors or log}); last lines:\n{tail}"
        )
    return took


@dataclass
class AutomlResult:
    """The exported model's predictions on the test split and its card's estimate."""

    predictions: np.ndarray  # labels (strings) or values
    proba: np.ndarray | None  # P(class "1") for binary tasks
    estimate: float | None
    estimate_key: str | None
    wall_s: float
    detail: dict[str, Any] = field(default_factory=dict)


def read_estimate(card: dict[str, Any]) -> tuple[float | None, str | None]:
    """automl's estimate from `model.json`: a number, or a mapping with `mean` (or `score`)."""
    for key in ESTIMATE_KEYS:
        value = card.get(key)
        if isinstance(value, dict):
            value = value.get("mean", value.get("score"))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value), key
    return None, None


def write_inputs(
    work: Path,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    base: dict[str, Any],
    space: dict[str, Any],
) -> None:
    """Write the train split (`train.npz`, the only data automl reads), the test inputs
    (`test.npz`, for the exported model only), `base.yaml` (the generated space) and `space.yaml`
    (with the `--automl-yaml-extra` changes) under `work`."""
    work.mkdir(parents=True, exist_ok=True)
    np.savez(work / "train.npz", x=x_train, y=y_train)
    np.savez(work / "test.npz", x=x_test)
    (work / "base.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
    (work / "space.yaml").write_text(yaml.safe_dump(space, sort_keys=False))


def _env(work: Path) -> dict[str, str]:
    return {**os.environ, "AUTOML_RUNS_DIR": str(work / "runs"), "TF_CPP_MIN_LOG_LEVEL": "2"}


def describe_space(work: Path) -> list[dict[str, Any]]:
    """`automl space --json` of `work/base.yaml`: every parameter, fixed or searched, its range."""
    log = work / "space.json"
    args = [*_automl_command(), "space", str(work / "base.yaml"), "--json"]
    _run(args, log, _env(work), errors=work / "space.log")
    text = log.read_text()
    try:
        rows = json.loads(text)
    except json.JSONDecodeError:
        rows = None
    if not isinstance(rows, list):
        raise AutomlRunError(
            f"`automl space --json`: expected a JSON list of parameters in {log}. "
            f"Received: {text[:300]!r}"
        )
    return rows


def run_automl(work: Path) -> AutomlResult:
    """Tune and export `work/space.yaml`, then predict `work/test.npz` with the exported model."""
    env = _env(work)
    space_file = work / "space.yaml"
    automl = _automl_command()
    tune_s = _run([*automl, "tune", str(space_file), "--no-progress"], work / "tune.log", env)
    export_s = _run(
        [*automl, "export", str(space_file), "--out", str(work / "best")], work / "export.log", env
    )
    score_s = _run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "score",
            str(work / "best"),
            str(work / "test.npz"),
            str(work / "pred.npz"),
        ],
        work / "score.log",
        env,
    )
    card = json.loads((work / "best" / "model.json").read_text())
    estimate, key = read_estimate(card)
    with np.load(work / "pred.npz", allow_pickle=False) as pred:
        predictions = pred["pred"]
        proba = pred["proba"] if "proba" in pred.files else None
    leaderboard = (work / "tune.log").read_text(errors="replace").strip().splitlines()
    return AutomlResult(
        predictions=predictions,
        proba=proba,
        estimate=estimate,
        estimate_key=key,
        wall_s=tune_s + export_s,
        detail={
            "tune_s": tune_s,
            "export_s": export_s,
            "score_s": score_s,
            "trial": card.get("trial"),
            "params": card.get("params"),
            "card_scores": {k: card.get(k) for k in (*ESTIMATE_KEYS, "test_score") if k in card},
            "tune_summary": next((line for line in leaderboard if line.startswith("Study")), ""),
            "space": yaml.safe_load(space_file.read_text()),
        },
    )


def labels_to_targets(labels: np.ndarray, y_train: np.ndarray) -> np.ndarray:
    """automl's string class labels back to the targets' values (matched by `str`)."""
    by_text = {str(v): v for v in np.unique(y_train)}
    unknown = sorted(set(map(str, labels)) - set(by_text))
    if unknown:
        raise AutomlRunError(
            f"the exported model predicted labels {unknown} that are not classes of the train "
            f"split; expected some of {sorted(by_text)}"
        )
    return np.asarray([by_text[str(v)] for v in labels])


def _score_main(model_dir: str, x_file: str, out_file: str) -> None:
    """Subprocess entry: predictions of the exported model (labels, P(class '1') or values)."""
    import automl

    model = automl.load(model_dir)
    with np.load(x_file, allow_pickle=False) as data:
        x = data["x"]
    proba: np.ndarray | None = None
    if model.task == "regression":
        pred = np.asarray(model.predict(x), dtype="float64")
    else:
        pred = np.asarray(model.predict(x)).astype(str)
        labels = [str(c) for c in (model.class_labels or [])]
        if model.task == "binary" and "1" in labels:
            proba = np.asarray(model.predict_proba(x))[:, labels.index("1")]
    arrays: dict[str, Any] = {"pred": pred}
    if proba is not None:
        arrays["proba"] = proba
    np.savez(out_file, **arrays)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "score":
        sys.exit(f"usage: {sys.argv[0]} score MODEL_DIR X.npz OUT.npz")
    _score_main(*sys.argv[2:])
