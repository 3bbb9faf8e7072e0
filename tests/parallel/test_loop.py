"""The worker loop: budget, timeout, recycling, and waiting to retry the trial of a dead worker."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest
from workers_util import journal

from automl.parallel import HEARTBEAT_ATTR, run_trials


def _study(runs_dir: Path, name: str) -> tuple[optuna.Study, SimpleNamespace, str]:
    study = optuna.create_study(study_name=name, storage=journal(runs_dir, name))
    path = str(runs_dir / name / "journal.log")
    return study, SimpleNamespace(study=SimpleNamespace(name=name, storage=path)), path


def test_the_loop_stops_at_the_budget_and_recycles_after_max_trials(runs_dir: Path) -> None:
    study, spec, path = _study(runs_dir, "loop")
    told: list[int] = []

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 1:
            raise optuna.TrialPruned("pruned on purpose")
        if trial.number == 2:
            raise RuntimeError("failed on purpose")
        return x

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        told.append(trial.number)

    first = run_trials(study, spec, objective, 5, max_trials=2, callbacks=[callback], storage=path)  # type: ignore[arg-type]
    assert (first.ran, first.recycle, first.interrupted) == (2, True, False)
    rest = run_trials(study, spec, objective, 5, callbacks=[callback], storage=path)  # type: ignore[arg-type]
    assert (rest.ran, rest.recycle) == (3, False)
    assert told == [0, 1, 2, 3, 4]
    states = [t.state.name for t in study.get_trials()]
    assert states == ["COMPLETE", "PRUNED", "FAIL", "COMPLETE", "COMPLETE"]
    assert run_trials(study, spec, objective, 5, storage=path).ran == 0  # type: ignore[arg-type]
    assert run_trials(study, spec, objective, 9, timeout=0, storage=path).ran == 0  # type: ignore[arg-type]


def test_a_worker_with_no_budget_left_waits_and_retries_a_trial_whose_worker_died(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOML_HEARTBEAT_INTERVAL", "1")
    monkeypatch.setenv("AUTOML_GRACE_PERIOD", "2")
    study, spec, path = _study(runs_dir, "tail")
    orphan = study.ask()  # the last trial of the budget, on a worker that then goes silent
    orphan.suggest_float("x", 0, 1)
    study._storage.set_trial_system_attr(orphan._trial_id, HEARTBEAT_ATTR, time.time())
    started = time.monotonic()

    outcome = run_trials(study, spec, lambda t: t.suggest_float("x", 0, 1), 1, storage=path)  # type: ignore[arg-type]

    assert outcome.ran == 1 and time.monotonic() - started >= 2
    trials = study.get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    assert trials[1].params == trials[0].params
