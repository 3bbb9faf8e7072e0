"""Rank the trials of a study and show them: leaderboard rows, their text and JSON, `TuneResult`.

There is one ranking (`ranked`), in the study's own direction as Optuna records it, and one
comparison of two scores (`is_better`); everything that orders trials goes through them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from automl.plugins import Catalog
from automl.spec import Spec
from automl.storage import retried_numbers

Direction = str | StudyDirection


def maximizes(direction: Direction) -> bool:
    """Whether `direction` ('maximize' or 'minimize', or Optuna's `StudyDirection`) prefers
    larger scores."""
    if isinstance(direction, StudyDirection):
        if direction == StudyDirection.NOT_SET:
            raise ValueError("the study has no direction yet (StudyDirection.NOT_SET)")
        return direction == StudyDirection.MAXIMIZE
    if direction not in ("maximize", "minimize"):
        raise ValueError(
            f"a direction must be 'maximize' or 'minimize'. Received: direction={direction!r}"
        )
    return direction == "maximize"


def is_better(score: float, than: float, direction: Direction) -> bool:
    """Whether `score` is strictly better than `than` in `direction`."""
    return score > than if maximizes(direction) else score < than


def ranked(study: optuna.Study, direction: Direction | None = None) -> list[FrozenTrial]:
    """Complete trials, best first (ties: the earlier trial first, like `study.best_trial`).

    Args:
        study: the study.
        direction: Defaults to `None`: the study's own direction. (Callers that pass the
            spec's direction get the same order: a study is created with it.)
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    reverse = maximizes(direction if direction is not None else study.direction)
    return sorted(complete, key=lambda t: float(t.value), reverse=reverse)  # type: ignore[arg-type]


def leaderboard(study: optuna.Study, direction: Direction | None = None) -> list[dict[str, Any]]:
    """Rows: complete trials by score (the mean over folds, with their `std`), then pruned,
    then failed (with the reason).

    Args:
        study: the study.
        direction: Defaults to `None`: the study's own direction.
    """
    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    others = [t for t in trials if t.state in (TrialState.PRUNED, TrialState.FAIL)]
    order = ranked(study, direction) + sorted(others, key=lambda t: (t.state.name, t.number))
    return [_row(t, rank, retried.get(t.number)) for rank, t in enumerate(order, 1)]


def _row(t: FrozenTrial, rank: int, retry: int | None) -> dict[str, Any]:
    duration = (
        (t.datetime_complete - t.datetime_start).total_seconds()
        if t.datetime_complete and t.datetime_start
        else None
    )
    reason = t.user_attrs.get("fail_reason") or t.user_attrs.get("pruned_reason")
    fold_scores = t.user_attrs.get("fold_scores") or []
    if retry is not None:  # a dead worker's trial says so, and which trial ran it again
        reason = f"{reason or 'its worker died (no heartbeat)'}; retried as trial {retry}"
    return {
        "rank": rank if t.state == TrialState.COMPLETE else None,
        "trial": t.number,
        "score": t.value,
        # the spread over cross-validation folds (population std, as scikit-learn's
        # GridSearchCV `std_test_score`); None for a hold-out split
        "std": float(np.std(fold_scores)) if len(fold_scores) > 1 else None,
        "folds": len(fold_scores) or None,
        "state": t.state.name.lower(),
        "epochs": t.user_attrs.get("epochs", len(t.intermediate_values) or None),
        "duration": round(duration, 2) if duration is not None else None,
        "params": dict(t.params),
        "reason": reason,
    }


def format_leaderboard(rows: list[dict[str, Any]], metric: str, top: int | None = None) -> str:
    """A plain-text table of the leaderboard (the first `top` rows; all by default)."""
    if top is not None:
        rows = rows[:top]
    if not rows:
        return "(no finished trials yet)"
    header = ["rank", "trial", metric, "state", "epochs", "time", "parameters"]
    table = [header] + [_cells(r) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False)) + "  " + row[-1]
        for row in table
    ]
    return "\n".join(line.rstrip() for line in lines)


def _cells(r: dict[str, Any]) -> list[str]:
    params = " ".join(f"{k}={_short(v)}" for k, v in r["params"].items())
    if r["state"] == "fail" and r.get("reason"):
        params = f"{params}  [{r['reason'][:120]}]".strip()
    return [
        str(r["rank"] or "-"),
        str(r["trial"]),
        _score(r),
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


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def trials_json(rows: list[dict[str, Any]]) -> str:
    """The leaderboard as JSON, for `automl trials --json`."""
    return json.dumps(rows, indent=2, default=str)


@dataclass
class TuneResult:
    """What `tune` returns: the study, its spec and the rows of its leaderboard."""

    study: optuna.Study
    spec: Spec
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    #: the registries the spec was resolved against
    catalog: Catalog | None = None

    @property
    def best_trial(self) -> FrozenTrial | None:
        """The best complete trial, if any."""
        top = ranked(self.study)
        return top[0] if top else None


__all__ = [
    "TuneResult",
    "format_leaderboard",
    "is_better",
    "leaderboard",
    "maximizes",
    "ranked",
    "trials_json",
]
