"""SIGTERM and SIGINT stop the loop cleanly: no trial is left RUNNING, none starts after."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import optuna
import pytest
from workers_util import journal

from automl.parallel import handle_signals, run_trials


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("during", ["trial", "callback"])
def test_a_signal_stops_the_loop_cleanly(runs_dir: Path, signum: int, during: str) -> None:
    """In a trial: the trial is interrupted and failed. Between trials (here in a callback, where
    a result is being recorded): nothing is interrupted and no new trial starts."""
    study = optuna.create_study(study_name="sig", storage=journal(runs_dir, "sig"))
    path = str(runs_dir / "sig" / "journal.log")
    spec = SimpleNamespace(study=SimpleNamespace(name="sig", storage=path))

    def objective(trial: optuna.Trial) -> float:
        if during == "trial":
            os.kill(os.getpid(), signum)
            time.sleep(30)
        return 1.0

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if during == "callback":
            os.kill(os.getpid(), signum)
            time.sleep(0.1)

    before = signal.getsignal(signum)
    started = time.monotonic()
    with handle_signals():
        outcome = run_trials(study, spec, objective, 5, callbacks=[callback], storage=path)  # type: ignore[arg-type]

    assert outcome.interrupted and outcome.ran == 1 and time.monotonic() - started < 10
    expected = "FAIL" if during == "trial" else "COMPLETE"
    assert [t.state.name for t in study.get_trials()] == [expected]
    assert signal.getsignal(signum) is before
