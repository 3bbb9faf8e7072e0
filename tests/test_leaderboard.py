"""One ranking in the study's own direction; the rows, their text and their JSON."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.distributions import BaseDistribution, FloatDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState, create_trial

from automl.leaderboard import (
    format_leaderboard,
    is_better,
    leaderboard,
    maximizes,
    ranked,
    trials_json,
)
from automl.result import TuneResult

X: dict[str, BaseDistribution] = {"x": FloatDistribution(0.0, 10.0)}


def _study(direction: str, values: list[float | None], states: list[TrialState]) -> optuna.Study:
    """An in-memory study holding finished trials with these values and states."""
    study = optuna.create_study(direction=direction)  # type: ignore[arg-type]
    for i, (value, state) in enumerate(zip(values, states, strict=True)):
        attrs = {"fail_reason": "ValueError: boom"} if state == TrialState.FAIL else {}
        study.add_trial(
            create_trial(
                state=state,
                value=value,
                params={"x": float(i)},
                distributions=X,
                user_attrs=attrs,
                intermediate_values={0: 0.5, 1: 0.6} if state == TrialState.PRUNED else {},
            )
        )
    return study


C, P, F = TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL


def test_direction_helper() -> None:
    assert maximizes("maximize") and maximizes(StudyDirection.MAXIMIZE)
    assert not maximizes("minimize") and not maximizes(StudyDirection.MINIMIZE)
    assert is_better(0.9, 0.8, "maximize") and not is_better(0.8, 0.8, "maximize")
    assert is_better(0.1, 0.2, StudyDirection.MINIMIZE) and not is_better(0.2, 0.1, "minimize")
    with pytest.raises(
        ValueError, match=r"must be 'maximize' or 'minimize'. Received: direction='max'"
    ):
        maximizes("max")


@pytest.mark.parametrize(
    ("direction", "order"), [("maximize", [2, 0, 3, 1]), ("minimize", [1, 0, 3, 2])]
)
def test_ranked_follows_the_study_direction(direction: str, order: list[int]) -> None:
    study = _study(direction, [0.5, 0.1, 0.9, 0.5, None], [C, C, C, C, F])
    assert [t.number for t in ranked(study)] == order  # ties: the earlier trial first
    assert ranked(study)[0].number == study.best_trial.number
    assert [t.number for t in ranked(study, direction)] == order
    assert TuneResult(study, spec=None).best_trial.number == order[0]  # type: ignore[arg-type,union-attr]


def test_leaderboard_rows_text_and_json() -> None:
    study = _study("minimize", [None, 2.0, 1.0, None], [F, C, C, P])
    rows = leaderboard(study)
    assert [(r["rank"], r["trial"], r["state"]) for r in rows] == [
        (1, 2, "complete"),
        (2, 1, "complete"),
        (None, 0, "fail"),
        (None, 3, "pruned"),
    ]
    assert rows[2]["reason"] == "ValueError: boom" and rows[3]["epochs"] == 2
    rows = [{**r, "duration": 1.25} for r in rows]  # created trials take no time
    assert format_leaderboard(rows, "rmse", top=3).splitlines() == [
        "rank  trial  rmse    state     epochs  time  parameters",
        "1     2      1.0000  complete  -       1.2s  x=2",
        "2     1      2.0000  complete  -       1.2s  x=1",
        "-     0      -       fail      -       1.2s  x=0  [ValueError: boom]",
    ]
    assert json.loads(trials_json(rows))[0] == {**rows[0], "params": {"x": 2.0}}
    assert format_leaderboard([], "rmse") == "(no finished trials yet)"


def test_best_trial_is_none_without_a_complete_trial() -> None:
    study = _study("maximize", [None], [F])
    assert ranked(study) == [] and TuneResult(study, spec=None).best_trial is None  # type: ignore[arg-type]
