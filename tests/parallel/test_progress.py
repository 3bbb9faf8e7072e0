"""The progress over trials: a bar on a terminal, one plain line per trial in a log."""

from __future__ import annotations

import optuna
import pytest

from automl.parallel.progress import Progress


def test_a_log_gets_one_line_per_trial_and_no_redraws(capsys: pytest.CaptureFixture[str]) -> None:
    study = optuna.create_study(direction="maximize")
    values = iter([0.25, 0.75, 0.5])
    progress = Progress(total=4, initial=0, study=study, enabled=True)  # stderr is captured
    study.optimize(lambda trial: next(values), n_trials=3, callbacks=[progress])
    progress.close()
    assert capsys.readouterr().err.splitlines() == [
        "trial 0 complete 0.2500 (1/4 trials, best 0.2500)",
        "trial 1 complete 0.7500 (2/4 trials, best 0.7500)",
        "trial 2 complete 0.5000 (3/4 trials, best 0.7500)",
    ]


def test_trials_told_elsewhere_are_counted_once(capsys: pytest.CaptureFixture[str]) -> None:
    study = optuna.create_study()
    progress = Progress(total=5, initial=1, study=study, enabled=True)
    progress.advance(1)
    progress.advance(3)
    progress.advance(3)
    assert capsys.readouterr().err == "progress (3/5 trials, best -)\n"


def test_disabled_progress_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    study = optuna.create_study()
    progress = Progress(total=2, initial=0, study=study, enabled=False)
    study.optimize(lambda trial: 1.0, n_trials=2, callbacks=[progress])
    assert capsys.readouterr().err == ""
