"""Pareto fronts against a brute-force dominance computation and Optuna's own first front."""

from __future__ import annotations

import itertools

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.study import StudyDirection
from optuna.trial import TrialState, create_trial

from automl.pareto import front_numbers, is_feasible, losses, penalty

MAX, MIN = StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE


def brute_force_fronts(loss: np.ndarray) -> list[int]:
    """Peel the fronts one by one with the definition of dominance, pair by pair."""

    def dominates(a: np.ndarray, b: np.ndarray) -> bool:
        return all(x <= y for x, y in zip(a, b, strict=True)) and any(
            x < y for x, y in zip(a, b, strict=True)
        )

    fronts = [0] * len(loss)
    left, number = set(range(len(loss))), 0
    while left:
        number += 1
        front = {i for i in left if not any(dominates(loss[j], loss[i]) for j in left)}
        for i in front:
            fronts[i] = number
        left -= front
    return fronts


@pytest.mark.parametrize(("n", "objectives", "seed"), [(40, 2, 0), (60, 3, 1), (30, 2, 2)])
def test_fronts_match_the_brute_force_computation(n: int, objectives: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    loss = rng.integers(0, 6, size=(n, objectives)).astype(float)  # many ties and duplicates
    fronts = front_numbers(loss)
    assert fronts.tolist() == brute_force_fronts(loss)
    assert fronts.min() == 1 and len(set(fronts.tolist())) == fronts.max()  # no front skipped


def test_one_objective_ranks_distinct_values() -> None:
    assert front_numbers(np.array([[3.0], [1.0], [3.0], [2.0]])).tolist() == [3, 1, 3, 2]
    assert front_numbers(np.zeros((0, 2))).tolist() == []


def test_losses_negate_maximized_objectives() -> None:
    assert losses([[0.9, 120.0], [0.5, 80.0]], [MAX, MIN]).tolist() == [
        [-0.9, 120.0],
        [-0.5, 80.0],
    ]


def test_first_front_is_optunas_best_trials() -> None:
    rng = np.random.default_rng(3)
    study = optuna.create_study(directions=["maximize", "minimize"])
    for i, (a, b) in enumerate(rng.integers(0, 8, size=(50, 2)).tolist()):
        study.add_trial(
            create_trial(
                values=[a / 10, float(b)],
                params={"x": float(i)},
                distributions={"x": FloatDistribution(0, 100)},
            )
        )
    fronts = front_numbers(losses([t.values for t in study.trials], study.directions))
    ours = {t.number for t, front in zip(study.trials, fronts, strict=True) if front == 1}
    assert ours == {t.number for t in study.best_trials}


def test_feasibility_and_penalty_follow_optunas_constraints() -> None:
    def trial(constraints: dict[str, float]) -> optuna.trial.FrozenTrial:
        attrs = {f"constraints:{k}": v for k, v in constraints.items()}
        return create_trial(state=TrialState.COMPLETE, value=1.0, system_attrs=attrs)

    assert is_feasible(trial({})) and is_feasible(trial({"params": 0.0, "latency_ms": -0.5}))
    assert not is_feasible(trial({"params": 10.0, "latency_ms": -0.5}))
    assert penalty(trial({"params": 10.0, "latency_ms": 0.25, "size_mb": -3.0})) == 10.25


def test_every_pair_across_fronts_is_ordered_by_dominance() -> None:
    """No trial of a later front dominates one of an earlier front."""
    loss = np.random.default_rng(4).normal(size=(80, 2))
    fronts = front_numbers(loss)
    for i, j in itertools.permutations(range(len(loss)), 2):
        if fronts[i] > fronts[j]:
            assert not (np.all(loss[i] <= loss[j]) and np.any(loss[i] < loss[j]))
