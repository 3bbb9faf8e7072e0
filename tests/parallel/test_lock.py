"""The study-wide lock keeps the budget exact when workers race for its last places."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest
from pg_server import postgres_server, postgres_url  # noqa: F401 (fixtures)
from workers_util import journal, race

from automl.parallel import budget_lock, budget_use, lock_path
from automl.storage import database_url

COMPLETE = optuna.trial.TrialState.COMPLETE


def test_the_journal_lock_is_a_file_next_to_the_journal_and_excludes(runs_dir: Path) -> None:
    study = optuna.create_study(study_name="lock", storage=journal(runs_dir, "lock"))
    spec = SimpleNamespace(study=SimpleNamespace(name="lock", storage=None))
    path = runs_dir / "lock" / "journal.log.automl-lock"
    assert lock_path(study, spec) == path  # type: ignore[arg-type]
    assert lock_path(optuna.create_study(), spec) is None  # type: ignore[arg-type]
    order: list[str] = []

    def second() -> None:
        with budget_lock(study, spec):  # type: ignore[arg-type]
            order.append("second")

    with budget_lock(study, spec):  # type: ignore[arg-type]
        other = threading.Thread(target=second)
        other.start()
        time.sleep(0.3)
        order.append("first done")
    other.join(timeout=10)
    assert order == ["first done", "second"] and path.exists()


@pytest.mark.slow
def test_budget_is_exact_when_three_processes_race_on_the_journal(tmp_path: Path) -> None:
    path = str(tmp_path / "journal.log")
    ran = race(path, "race", budget=24, workers=3)
    study = optuna.load_study(study_name="race", storage=journal(tmp_path.parent, tmp_path.name))
    states = [t.state for t in study.trials]
    assert sum(ran) == 24
    assert states == [optuna.trial.TrialState.COMPLETE] * 24
    assert sum(1 for n in ran if n > 0) >= 2  # they did share the work
    assert budget_use(study) == (24, 0)


@pytest.mark.slow
def test_budget_is_exact_when_three_processes_race_on_postgres(postgres_url: str) -> None:  # noqa: F811
    ran = race(postgres_url, "race", budget=24, workers=3)
    study = optuna.load_study(study_name="race", storage=database_url(postgres_url))
    assert sum(ran) == 24
    assert [t.state for t in study.trials] == [COMPLETE] * 24
    assert budget_use(study) == (24, 0)
