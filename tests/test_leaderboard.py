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
    format_values,
    is_better,
    leaderboard,
    maximizes,
    pareto_front,
    position,
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


# ----------------------------------------------------------------------- several objectives
def _two_objectives(points: list[tuple[float, float]], infeasible: set[int]) -> optuna.Study:
    """accuracy (maximize) and params (minimize); trials in `infeasible` violate params <= 10."""
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.set_metric_names(["accuracy", "params"])
    for i, values in enumerate(points):
        broken = i in infeasible
        study.add_trial(
            create_trial(
                values=list(values),
                params={"x": float(i)},
                distributions=X,
                system_attrs={"constraints:params": 5.0 if broken else -1.0},
                user_attrs={"infeasible": "violates study.constraints: params 15 > max 10"}
                if broken
                else {},
            )
        )
    return study


POINTS = [(0.9, 50.0), (0.8, 20.0), (0.85, 60.0), (0.7, 20.0), (0.95, 80.0), (0.99, 5.0)]


def test_several_objectives_rank_by_front_then_first_objective() -> None:
    study = _two_objectives(POINTS, infeasible={5})  # trial 5 would dominate every other
    rows = leaderboard(study)
    # front 1: 4 (0.95, 80), 0 (0.9, 50), 1 (0.8, 20); front 2: 2 (dominated by 4) and 3 (by 1)
    assert [(r["rank"], r["trial"], r["state"]) for r in rows] == [
        (1, 4, "complete"),
        (1, 0, "complete"),
        (1, 1, "complete"),
        (2, 2, "complete"),
        (2, 3, "complete"),
        (None, 5, "infeasible"),
    ]
    assert rows[1]["values"] == {"accuracy": 0.9, "params": 50.0} and rows[1]["score"] == 0.9
    assert rows[5]["reason"] == "violates study.constraints: params 15 > max 10"
    assert [t.number for t in pareto_front(study)] == [4, 0, 1]
    assert {t.number for t in study.best_trials} == {4, 0, 1}  # Optuna agrees, constraint too
    assert [t.number for t in ranked(study)] == [4, 0, 1, 2, 3]
    assert TuneResult(study, spec=None).best_trial.number == 4  # type: ignore[arg-type,union-attr]


def test_several_objectives_text_has_a_column_per_objective() -> None:
    rows = [{**r, "duration": 2.0} for r in leaderboard(_two_objectives(POINTS[:2], {1}))]
    assert format_leaderboard(rows, ["accuracy", "params"]).splitlines() == [
        "rank  trial  accuracy  params   state       epochs  time  parameters",
        "1     0      0.9000    50.0000  complete    -       2.0s  x=0",
        "-     1      0.8000    20.0000  infeasible  -       2.0s  x=1  "
        "[violates study.constraints: params 15 > max 10]",
    ]
    assert format_values({"accuracy": 0.98125, "params": 123456.0}) == (
        "accuracy 0.9812, params 123456"
    )


def test_position_of_a_new_point() -> None:
    study = _two_objectives(POINTS, infeasible={5})
    assert position(study, [0.99, 1.0]) == (0, 1)  # dominates everything
    assert position(study, [0.5, 100.0]) == (5, 3)  # dominated by everything: after fronts 1, 2
    assert position(study, [0.9, 50.0]) == (2, 1)  # a tie with trial 0 goes after it, in front 1
    assert position(study, [0.82, 55.0]) == (4, 2)  # dominated by trial 0 only
    single = _study("maximize", [0.5, 0.9], [C, C])
    assert position(single, [0.7]) == (1, 2) and position(single, [0.9]) == (1, 1)


def test_single_objective_rows_are_as_before() -> None:
    study = _study("maximize", [0.5], [C])
    (row,) = leaderboard(study)
    assert sorted(row) == sorted(
        [
            "rank",
            "trial",
            "score",
            "std",
            "folds",
            "state",
            "epochs",
            "duration",
            "params",
            "reason",
        ]
    )
