"""Model quality: automl vs tuned scikit-learn vs KerasTuner, on a test split automl never sees.

For each task (scikit-learn's digits as 8x8 images, wine, breast cancer, diabetes, a synthetic
imbalanced binary task with about 5% positives, a synthetic sequence task), ONE seeded train/test
split is made (stratified for classification, 25% test). Then, on the same train split and scored
with the same scikit-learn metric on the same test split:

- automl: a short YAML a user would write (one generator for every task: the model families that
  fit, with their default ranges; standardize or min_max; the metric; `data.test: 0`; `trials`),
  run through the CLI (`automl tune`, `automl export`), the export scored in a subprocess via
  `automl.load`. Its estimate is the card's `estimate` (the exported model's cross-validated
  score; the validation score of a hold-out study). automl's own defaults (folds, export kind)
  are measured, never set here.
- scikit-learn: GridSearchCV (5 folds) over StandardScaler + SVC / LogisticRegression /
  HistGradientBoosting (Ridge / SVR / HistGradientBoosting for regression); the family with the
  best CV score is refitted and tested. Its estimate is that CV score.
- KerasTuner: RandomSearch over automl's own space for the task (same families, default ranges,
  preprocessing, epochs, batch size, early stopping) with the same trial budget; the best model
  (`get_best_models(1)[0]`) is tested. Its estimate is the best trial's validation score.

Metrics: digits, wine, sequences: accuracy; breast cancer: ROC AUC; diabetes: RMSE; imbalanced: F1.
Prints a row per task and contender (test score, estimate, gap = estimate - test, wall time) and a
summary against the targets (automl at least as good as both on every task; |gap| <= 0.02 on
classification). Run by hand, never by the test suite; it takes long on 2 CPU cores.

    python benchmarks/quality.py [--tasks digits,wine] [--trials 20] [--seed 0] [--quick]
        [--automl-yaml-extra data.folds=1 ...] [--json-out results.json] [--workdir DIR]

Needs keras-tuner and tensorboard (the `bench` extra) unless `--contenders` leaves KerasTuner out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the _quality_* helper modules

import numpy as np
from _quality_automl import (
    apply_extras,
    automl_space,
    describe_space,
    labels_to_targets,
    run_automl,
    write_inputs,
)
from _quality_sklearn import run_sklearn
from _quality_tasks import TASKS, Split, Task, split_task

CONTENDERS = ("automl", "sklearn", "kerastuner")
GAP_TARGET = 0.02  # |estimate - test| of automl on classification
QUICK_TRIALS, QUICK_EPOCHS = 3, 3


@dataclass
class Row:
    """One contender on one task."""

    task: str
    contender: str
    metric: str
    test: float | None = None
    estimate: float | None = None
    gap: float | None = None  # estimate - test
    wall_s: float | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _row(
    task: Task,
    contender: str,
    test: float,
    estimate: float | None,
    wall: float,
    detail: dict[str, Any],
) -> Row:
    gap = estimate - test if estimate is not None else None
    return Row(
        task.name,
        contender,
        task.metric.name,
        test=test,
        estimate=estimate,
        gap=gap,
        wall_s=wall,
        detail=detail,
    )


def _automl(task: Task, split: Split, work: Path) -> Row:
    result = run_automl(work)
    if task.metric.uses_proba:
        if result.proba is None:
            raise ValueError(f"{task.name}: the exported model gave no P(class '1') for ROC AUC")
        predicted = result.proba
    elif task.task == "regression":
        predicted = result.predictions
    else:
        predicted = labels_to_targets(result.predictions, split.y_train)
    test = task.metric.score(split.y_test, predicted)
    detail = {**result.detail, "estimate_key": result.estimate_key}
    return _row(task, "automl", test, result.estimate, result.wall_s, detail)


def _sklearn(task: Task, split: Split, seed: int) -> Row:
    result = run_sklearn(task, split, seed)
    detail = {"family": result.family, "families": result.families}
    return _row(
        task, f"sklearn:{result.family}", result.test, result.estimate, result.wall_s, detail
    )


def _kerastuner(task: Task, split: Split, work: Path, trials: int, seed: int) -> Row:
    from _quality_kerastuner import read_space, run_kerastuner

    space = read_space(describe_space(work))
    result = run_kerastuner(task, split, space, trials, seed, work / "kerastuner")
    test = task.metric.score(split.y_test, result.predictions)
    return _row(task, "kerastuner", test, result.estimate, result.wall_s, result.detail)


def run_task(task: Task, args: argparse.Namespace, work: Path) -> list[Row]:
    """Split the task once, then run each chosen contender on it; a failure becomes a row."""
    split = split_task(task, args.seed, quick=args.quick)
    base = automl_space(task, "train.npz", args.trials, args.seed, args.epochs)
    # images are written as (n, 8, 8) grey images, as a user would: `images: true` adds the channel
    x_file = split.x_train[..., 0] if task.kind == "images" else split.x_train
    write_inputs(
        work,
        x_file,
        split.y_train,
        split.x_test,
        base,
        apply_extras(base, args.automl_yaml_extra),
    )
    runs = {
        "automl": lambda: _automl(task, split, work),
        "sklearn": lambda: _sklearn(task, split, args.seed),
        "kerastuner": lambda: _kerastuner(task, split, work, args.trials, args.seed),
    }
    rows = []
    for name in args.contenders:
        print(f"[{time.strftime('%H:%M:%S')}] {task.name}: {name} ...", file=sys.stderr, flush=True)
        try:
            row = runs[name]()
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            row = Row(task.name, name, task.metric.name, error=f"{type(exc).__name__}: {exc}")
        row.detail.setdefault("rows", {"train": len(split.y_train), "test": len(split.y_test)})
        rows.append(row)
        print(_format_rows([row], header=False), file=sys.stderr, flush=True)
    return rows


def _num(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def _format_rows(rows: list[Row], header: bool = True) -> str:
    lines = (
        [
            f"{'task':<14}{'contender':<34}{'metric':<10}{'test':>8}{'estimate':>10}{'gap':>9}"
            f"{'wall':>8}"
        ]
        if header
        else []
    )
    for r in rows:
        wall = f"{r.wall_s:.0f}s" if r.wall_s is not None else "-"
        text = (
            f"{r.task:<14}{r.contender:<34}{r.metric:<10}{_num(r.test):>8}"
            f"{_num(r.estimate):>10}{_num(r.gap, sign=True):>9}{wall:>8}"
        )
        lines.append(text + (f"  ERROR {r.error.splitlines()[0]}" if r.error else ""))
    return "\n".join(lines)


def summarize(rows: list[Row]) -> list[dict[str, Any]]:
    """Per task: automl minus best sklearn and minus KerasTuner, and which targets hold."""
    out = []
    for name in dict.fromkeys(r.task for r in rows):
        task = TASKS[name]
        by = {r.contender.split(":")[0]: r for r in rows if r.task == name}
        auto = by.get("automl")
        entry: dict[str, Any] = {"task": name, "metric": task.metric.name}
        for other in ("sklearn", "kerastuner"):
            rival = by.get(other)
            ok = auto and rival and auto.test is not None and rival.test is not None
            diff = auto.test - rival.test if ok else None  # type: ignore[union-attr,operator]
            entry[f"automl_minus_{other}"] = diff
            entry[f"automl_at_least_{other}"] = (
                task.metric.better(auto.test, rival.test) >= 0 if ok else None  # type: ignore[union-attr,arg-type]
            )
        gap = auto.gap if auto else None
        entry["automl_gap"] = gap
        entry["automl_gap_ok"] = (
            abs(gap) <= GAP_TARGET if gap is not None and task.classification else None
        )
        out.append(entry)
    return out


def _format_summary(summary: list[dict[str, Any]]) -> str:
    def verdict(value: bool | None) -> str:
        return "-" if value is None else ("yes" if value else "NO")

    lines = [
        f"{'task':<14}{'metric':<10}{'automl-sklearn':>15}{'>=?':>5}{'automl-kt':>11}{'>=?':>5}"
        f"{'automl gap':>12}{'<=0.02?':>9}"
    ]
    for s in summary:
        lines.append(
            f"{s['task']:<14}{s['metric']:<10}{_num(s['automl_minus_sklearn'], True):>15}"
            f"{verdict(s['automl_at_least_sklearn']):>5}"
            f"{_num(s['automl_minus_kerastuner'], True):>11}"
            f"{verdict(s['automl_at_least_kerastuner']):>5}"
            f"{_num(s['automl_gap'], True):>12}{verdict(s['automl_gap_ok']):>9}"
        )
    checks = [
        s[k]
        for s in summary
        for k in ("automl_at_least_sklearn", "automl_at_least_kerastuner", "automl_gap_ok")
        if s[k] is not None
    ]
    lines.append(
        f"targets met: {sum(checks)} of {len(checks)} "
        "(RMSE: lower is better, so '>=' means 'at most')"
    )
    return "\n".join(lines)


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in ("automl-keras", "keras", "tensorflow", "scikit-learn", "keras-tuner", "optuna"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _csv(text: str, allowed: tuple[str, ...] | list[str]) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in items if t not in allowed]
    if unknown or not items:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(allowed)}. Received: {text!r}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    return items


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; `--quick` means 3 trials, 3 epochs and at most 400 rows per task."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--tasks",
        default=",".join(TASKS),
        type=lambda t: _csv(t, list(TASKS)),
        help=f"comma-separated, from {', '.join(TASKS)} (default: all)",
    )
    p.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        type=lambda t: _csv(t, CONTENDERS),
        help=f"comma-separated, from {', '.join(CONTENDERS)} (default: all)",
    )
    p.add_argument("--trials", type=int, default=None, help="budget per tuner (default 20)")
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="training.epochs for automl and KerasTuner (default: automl's)",
    )
    p.add_argument("--seed", type=int, default=0, help="split, study and tuner seed")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 3 trials, 3 epochs, at most 400 rows per task",
    )
    p.add_argument(
        "--automl-yaml-extra",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a dotted key of automl's YAML (YAML value), e.g. data.folds=1; "
        "repeatable; KerasTuner keeps mirroring the generated YAML",
    )
    p.add_argument("--json-out", type=Path, help="also write the results as JSON here")
    p.add_argument(
        "--workdir",
        type=Path,
        help="keep the data, YAMLs, logs and models here (default: a temporary "
        "folder, removed unless something failed)",
    )
    args = p.parse_args(argv)
    if args.trials is None:
        args.trials = QUICK_TRIALS if args.quick else 20
    if args.epochs is None and args.quick:
        args.epochs = QUICK_EPOCHS
    for value, flag in ((args.trials, "--trials"), (args.epochs, "--epochs")):
        if value is not None and value < 1:
            p.error(f"{flag}: expected a positive integer. Received: {value}")
    try:
        apply_extras({}, args.automl_yaml_extra)
    except ValueError as exc:
        p.error(str(exc))
    if "kerastuner" in args.contenders:
        try:
            import keras_tuner  # noqa: F401
            import tensorboard  # noqa: F401  (KerasTuner imports it on the TensorFlow backend)
        except ImportError as exc:
            p.error(
                f"KerasTuner needs keras-tuner and tensorboard ({exc}); install them with "
                "`pip install 'automl-keras[bench]'` or leave it out with "
                "--contenders automl,sklearn"
            )
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every task and contender, print the table and the summary; 1 if anything failed."""
    args = parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="automl-quality-"))
    started = time.perf_counter()
    rows: list[Row] = []
    for name in args.tasks:
        rows += run_task(TASKS[name], args, work.resolve() / name)
    summary = summarize(rows)
    print()
    print(_format_rows(rows))
    print()
    print(_format_summary(summary))
    failed = any(r.error for r in rows)
    total = time.perf_counter() - started
    print(
        f"\n{len(args.tasks)} tasks in {total:.0f}s; seed {args.seed}, trials {args.trials}"
        + (", quick" if args.quick else "")
    )
    if args.json_out:
        settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        payload = {
            "settings": settings,
            "versions": _versions(),
            "total_s": total,
            "rows": [asdict(r) for r in rows],
            "summary": summary,
        }
        args.json_out.write_text(json.dumps(payload, indent=2, default=_json_default))
        print(f"wrote {args.json_out}")
    if failed or args.workdir:
        print(f"files (data, YAMLs, logs, models) kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
