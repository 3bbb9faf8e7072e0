"""Rank the trials of a study and show them: leaderboard rows, their text and JSON.

There is one ranking (`ranked`), in the study's own directions as Optuna records them; everything
that orders trials goes through it. With one objective, trials are sorted by their value; with
several, by Pareto front (front 1: no other trial is at least as good in every objective and
better in one), then by the first objective. A trial that violates `study.constraints` is kept
but never ranked, so never chosen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from automl.components import maximizes
from automl.pareto import front_numbers, is_feasible, losses, penalty
from automl.storage import retried_numbers

Direction = str | StudyDirection
#: the trial user attribute that says which constraint a trial violates, and by how much
INFEASIBLE_ATTR = "infeasible"


def is_better(score: float, than: float, direction: Direction) -> bool:
    """Whether `score` is strictly better than `than` in `direction`."""
    return score > than if maximizes(direction) else score < than


def ranked(study: optuna.Study, direction: Direction | None = None) -> list[FrozenTrial]:
    """Complete feasible trials, best first (ties: the earlier trial first, like
    `study.best_trial`); with several objectives, by front, then by the first objective.

    Args:
        study: the study.
        direction: Defaults to `None`: the study's own direction. (Callers that pass the
            spec's direction get the same order: a study is created with it.)
    """
    return [t for t, _ in _ranking(study, direction)]


def pareto_front(study: optuna.Study) -> list[FrozenTrial]:
    """The complete feasible trials that no other one dominates (`study.best_trials`), in
    leaderboard order (with one objective: the best trial and its ties)."""
    return [t for t, front in _ranking(study) if front == 1]


def position(study: optuna.Study, values: Sequence[float]) -> tuple[int, int]:
    """Where a new feasible trial with `values` would rank among the complete feasible ones:
    (its place, 0 for the first; its front, 1 for the Pareto front). Ties go to the trials
    already there."""
    ranking = ranked(study)
    loss = losses([*(t.values for t in ranking), list(values)], study.directions)
    fronts = front_numbers(loss)
    return _order(loss, fronts).index(len(ranking)), int(fronts[-1])


def objective_names(study: optuna.Study) -> list[str]:
    """The name of each objective: `study.metric_names` (set when automl creates a study)."""
    if study.metric_names:
        return list(study.metric_names)
    if len(study.directions) == 1:
        return [str(study.user_attrs.get("metric", "value"))]
    return [f"value{i}" for i in range(len(study.directions))]


def _ranking(
    study: optuna.Study, direction: Direction | None = None
) -> list[tuple[FrozenTrial, int]]:
    """(trial, front) of the complete feasible trials, in leaderboard order."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    feasible = [t for t in complete if is_feasible(t)]
    directions = study.directions
    if direction is not None and len(directions) == 1:
        directions = [StudyDirection.MAXIMIZE if maximizes(direction) else StudyDirection.MINIMIZE]
    loss = losses([t.values for t in feasible], directions)
    fronts = front_numbers(loss)
    return [(feasible[i], int(fronts[i])) for i in _order(loss, fronts)]


def _order(loss: np.ndarray, fronts: np.ndarray | None = None) -> list[int]:
    """Row indices by front, then by the first objective; ties keep their order (stable)."""
    fronts = front_numbers(loss) if fronts is None else fronts
    return sorted(range(len(loss)), key=lambda i: (fronts[i], loss[i, 0]))


def leaderboard(study: optuna.Study, direction: Direction | None = None) -> list[dict[str, Any]]:
    """Rows: complete trials by score (the mean over folds, with their `std`), then pruned,
    then failed (with the reason).

    Args:
        study: the study.
        direction: Defaults to `None`: the study's own direction.
    """
    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    names = objective_names(study) if len(study.directions) > 1 else None
    ranking = _ranking(study, direction)
    rows = [
        _row(t, front if names else rank, retried.get(t.number), names)
        for rank, (t, front) in enumerate(ranking, 1)
    ]
    infeasible = [t for t in trials if t.state == TrialState.COMPLETE and not is_feasible(t)]
    others = [t for t in trials if t.state in (TrialState.PRUNED, TrialState.FAIL)]
    rows += [
        _row(t, None, retried.get(t.number), names)
        for t in sorted(infeasible, key=lambda t: (penalty(t), t.number))
        + sorted(others, key=lambda t: (t.state.name, t.number))
    ]
    return rows


def _row(
    t: FrozenTrial, rank: int | None, retry: int | None, names: list[str] | None
) -> dict[str, Any]:
    duration = (
        (t.datetime_complete - t.datetime_start).total_seconds()
        if t.datetime_complete and t.datetime_start
        else None
    )
    reason = t.user_attrs.get("fail_reason") or t.user_attrs.get("pruned_reason")
    fold_scores = t.user_attrs.get("fold_scores") or []
    state = t.state.name.lower()
    if t.state == TrialState.COMPLETE and not is_feasible(t):
        state = "infeasible"
        reason = t.user_attrs.get(INFEASIBLE_ATTR) or "violates study.constraints"
    if retry is not None:  # a dead worker's trial says so, and which trial ran it again
        reason = f"{reason or 'its worker died (no heartbeat)'}; retried as trial {retry}"
    row = {
        "rank": rank if t.state == TrialState.COMPLETE else None,
        "trial": t.number,
        "score": t.values[0] if t.values else None,
        # the spread over cross-validation folds of the first metric (population std, as
        # scikit-learn's GridSearchCV `std_test_score`); None for a hold-out split
        "std": float(np.std(fold_scores)) if len(fold_scores) > 1 else None,
        "folds": len(fold_scores) or None,
        "state": state,
        "epochs": t.user_attrs.get("epochs", len(t.intermediate_values) or None),
        "duration": round(duration, 2) if duration is not None else None,
        "params": dict(t.params),
        "reason": reason,
    }
    if names is not None:  # several objectives: every one, by name
        row["values"] = dict(zip(names, t.values, strict=True)) if t.values else None
    return row


def format_leaderboard(
    rows: list[dict[str, Any]], metric: str | Sequence[str], top: int | None = None
) -> str:
    """A plain-text table of the leaderboard (the first `top` rows; all by default).

    Args:
        rows: the rows of `leaderboard`.
        metric: the metric's name, or one name per objective (a column each).
        top: show only the first `top` rows. Defaults to `None` (all).
    """
    if top is not None:
        rows = rows[:top]
    if not rows:
        return "(no finished trials yet)"
    names = [metric] if isinstance(metric, str) else list(metric)
    header = ["rank", "trial", *names, "state", "epochs", "time", "parameters"]
    table = [header] + [_cells(r, names) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False)) + "  " + row[-1]
        for row in table
    ]
    return "\n".join(line.rstrip() for line in lines)


def _cells(r: dict[str, Any], names: list[str]) -> list[str]:
    params = " ".join(f"{k}={_short(v)}" for k, v in r["params"].items())
    if r["state"] in ("fail", "infeasible") and r.get("reason"):
        params = f"{params}  [{r['reason'][:120]}]".strip()
    if len(names) == 1:
        values = [_score(r)]
    else:
        values = [_value((r.get("values") or {}).get(name)) for name in names]
    return [
        str(r["rank"] or "-"),
        str(r["trial"]),
        *values,
        r["state"],
        str(r["epochs"] or "-"),
        f"{r['duration']:.1f}s" if r["duration"] is not None else "-",
        params,
    ]


def _score(r: dict[str, Any]) -> str:
    """`0.9583`, or `0.9583 ±0.0204` for a cross-validated trial (mean and std over folds)."""
    if r["score"] is None:
        return "-"
    std = r.get("std")
    return f"{r['score']:.4f}" + (f" ±{std:.4f}" if std is not None else "")


def format_values(values: dict[str, float]) -> str:
    """`accuracy 0.9861, latency_ms 0.4120`: each objective's name and value."""
    return ", ".join(f"{name} {_value(value)}" for name, value in values.items())


def _value(value: float | None) -> str:
    """An objective's value: 4 decimals, or none for a large whole number (a parameter count)."""
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.4f}"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def trials_json(rows: list[dict[str, Any]]) -> str:
    """The leaderboard as JSON, for `automl trials --json`."""
    return json.dumps(rows, indent=2, default=str)


__all__ = [
    "INFEASIBLE_ATTR",
    "format_leaderboard",
    "format_values",
    "is_better",
    "leaderboard",
    "maximizes",
    "objective_names",
    "pareto_front",
    "position",
    "ranked",
    "trials_json",
]
