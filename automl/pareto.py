"""Pareto fronts of a study's trials and their feasibility under `study.constraints`.

Optuna gives the first front (`Study.best_trials`) and decides feasibility (a trial is feasible
when every value of `FrozenTrial.constraints` is <= 0); the leaderboard also needs the later
fronts, to rank every trial, and Optuna's non-dominated sort is private. `front_numbers` is that
sort, vectorized: front 1 is what no trial dominates, front 2 what only front 1 dominates, and so
on (for one objective: the distinct values in order).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial


def losses(values: Sequence[Sequence[float]], directions: Sequence[StudyDirection]) -> np.ndarray:
    """Values as an (n, objectives) array in which lower is better (maximized ones negated)."""
    signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions])
    return np.asarray(values, dtype="float64").reshape(-1, len(signs)) * signs


def front_numbers(loss: np.ndarray) -> np.ndarray:
    """The front (1, 2, ...) of each row of `loss` (n, objectives), every objective minimized.

    Row i dominates row j when it is no worse in every objective and better in one.
    """
    n = len(loss)
    if n == 0:
        return np.zeros(0, dtype=int)
    if loss.shape[1] == 1:
        return np.unique(loss[:, 0], return_inverse=True)[1].reshape(-1) + 1
    no_worse = np.all(loss[:, None, :] <= loss[None, :, :], axis=2)
    better = np.any(loss[:, None, :] < loss[None, :, :], axis=2)
    dominates = np.logical_and(no_worse, better)  # [i, j]: row i dominates row j
    dominated_by = dominates.sum(axis=0)
    fronts = np.zeros(n, dtype=int)
    number = 0
    while not fronts.all():
        number += 1
        front = np.flatnonzero((fronts == 0) & (dominated_by == 0))
        fronts[front] = number
        dominated_by = dominated_by - dominates[front].sum(axis=0)
    return fronts


def is_feasible(trial: FrozenTrial) -> bool:
    """Whether the trial meets every constraint it was given (Optuna's rule: values <= 0)."""
    return all(v <= 0.0 for v in trial.constraints.values())


def penalty(trial: FrozenTrial) -> float:
    """How far an infeasible trial is from feasible: its positive constraint values, summed."""
    return float(sum(v for v in trial.constraints.values() if v > 0.0))


__all__ = ["front_numbers", "is_feasible", "losses", "penalty"]
