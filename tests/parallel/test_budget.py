"""Which trials use the budget: finished ones, except those the user stopped and those retried
after their worker died, plus the running and waiting ones."""

from __future__ import annotations

import optuna
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from automl.parallel import budget_use, counted_trials


def test_interrupted_and_retried_trials_do_not_use_the_budget() -> None:
    study = optuna.create_study()
    x = {"x": FloatDistribution(0.0, 1.0)}

    def add(state: TrialState, **kwargs: object) -> None:
        value = 0.5 if state == TrialState.COMPLETE else None
        trial = create_trial(state=state, value=value, params={"x": 0.5}, distributions=x, **kwargs)  # type: ignore[arg-type]
        study.add_trial(trial)

    add(TrialState.COMPLETE)  # 0: counts
    add(TrialState.FAIL, user_attrs={"interrupted": True})  # 1: stopped by the user
    add(TrialState.FAIL)  # 2: its worker died; retried as trial 4
    add(TrialState.PRUNED)  # 3: counts
    add(TrialState.RUNNING, system_attrs={"retry_history": [2]})  # 4: the retry, running
    add(TrialState.FAIL)  # 5: failed on its own: counts
    study.enqueue_trial({"x": 0.25})  # 6: waiting

    assert [t.number for t in counted_trials(study)] == [0, 3, 5]
    assert budget_use(study) == (5, 1)  # 3 counted + 1 running + 1 waiting, of which 1 waiting
