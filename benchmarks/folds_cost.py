"""What cross-validated trials cost: the same study with one hold-out split and with K folds.

    .venv/bin/python benchmarks/folds_cost.py                 # digits MLP, 20 trials, 5 folds
    .venv/bin/python benchmarks/folds_cost.py --space search_spaces/digits_cnn.yaml --trials 12

Runs `automl tune SPACE --trials T` twice in fresh runs directories, once with `data.folds: 1`
and once with `data.folds: K` (everything else as the file says: sampler, pruner, seed), and
prints for each: wall time, CPU time of the tune process (user + system: less disturbed by other
load on the machine than wall time), trials complete / pruned, and the epochs trained in all
(from `automl trials --json`: the first fold's epochs of a pruned trial, the sum over folds of a
complete one). The target (issue 10): the K-fold study costs at most 3x the hold-out study.
Pruning is what makes that possible: the first fold reports its epochs like a hold-out trial,
then the running mean after each fold, so most trials that will not win stop after one fold.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
import yaml
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState

REPO = Path(__file__).resolve().parents[1]
TARGET = 3.0


def automl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the automl CLI of this interpreter; its output captured."""
    cmd = [sys.executable, "-m", "automl.cli", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)


def run(space: dict[str, Any], folds: int, trials: int, work: Path) -> dict[str, Any]:
    """Tune `space` with `data.folds: folds`; wall and CPU seconds, trial states, epochs."""
    space = json.loads(json.dumps(space))
    space["data"]["folds"] = folds
    space["study"]["name"] = f"cost-folds{folds}"
    space["study"].pop("timeout", None)  # the budget is the trial count, never the clock
    path = work / f"folds{folds}.yaml"
    path.write_text(yaml.safe_dump(space, sort_keys=False))
    env = {**os.environ, "AUTOML_RUNS_DIR": str(work / "runs"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    automl("tune", str(path), "--trials", str(trials), "--no-progress", env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    journal = JournalFileBackend(str(work / "runs" / space["study"]["name"] / "journal.log"))
    study = optuna.load_study(study_name=space["study"]["name"], storage=JournalStorage(journal))
    trials = study.get_trials(deepcopy=False)
    return {
        "folds": folds,
        "wall_s": wall,
        "cpu_s": cpu,
        "complete": sum(t.state == TrialState.COMPLETE for t in trials),
        "pruned": sum(t.state == TrialState.PRUNED for t in trials),
        # every fold's epochs of a finished trial; the first fold's of a pruned one
        "epochs": sum(
            sum(t.user_attrs.get("fold_epochs") or [t.user_attrs.get("epochs") or 0])
            for t in trials
        ),
        "best": study.best_value,
    }


def main(argv: list[str] | None = None) -> int:
    """Both runs, side by side, and the ratios."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--space", type=Path, default=REPO / "search_spaces" / "digits_mlp.yaml")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--folds", type=int, default=5)
    args = p.parse_args(argv)
    space = yaml.safe_load(args.space.read_text())
    with tempfile.TemporaryDirectory(prefix="automl-folds-cost-") as tmp:
        results = [run(space, k, args.trials, Path(tmp)) for k in (1, args.folds)]
    print(f"{args.space.name}, {args.trials} trials, sampler and pruner as the file says")
    print(f"{'folds':>5} {'wall':>8} {'cpu':>8} {'complete':>9} {'pruned':>7} {'epochs':>7}  best")
    for r in results:
        print(
            f"{r['folds']:>5} {r['wall_s']:>7.0f}s {r['cpu_s']:>7.0f}s {r['complete']:>9} "
            f"{r['pruned']:>7} {r['epochs']:>7}  {r['best']:.4f}"
        )
    one, many = results
    ratios = {key: many[key] / one[key] for key in ("wall_s", "cpu_s", "epochs")}
    print(
        f"{args.folds} folds / 1: wall {ratios['wall_s']:.2f}x, cpu {ratios['cpu_s']:.2f}x, "
        f"epochs {ratios['epochs']:.2f}x (target: at most {TARGET:.0f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
