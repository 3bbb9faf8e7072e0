"""Rank the trials of a study and show them: leaderboard rows, their text and JSON.

There is one ranking (`ranked`), in the study's own direction as Optuna records it, and one
comparison of two scores (`is_better`); everything that orders trials goes through them.
"""

from __future__ import annotations

import json
from typing import Any

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from automl.components import maximizes
from automl.storage import retried_numbers

Direction = str | StudyDirection


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
    """Rows: complete trials by score, then pruned, then failed (with the reason).

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
    if retry is not None:  # a dead worker's trial says so, and which trial ran it again
        reason = f"{reason or 'its worker died (no heartbeat)'}; retried as trial {retry}"
    return {
        "rank": rank if t.state == TrialState.COMPLETE else None,
        "trial": t.number,
        "score": t.value,
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
        f"{r['score']:.4f}" if r["score"] is not None else "-",
        r["state"],
        str(r["epochs"] or "-"),
        f"{r['duration']:.1f}s" if r["duration"] is not None else "-",
        params,
    ]


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def trials_json(rows: list[dict[str, Any]]) -> str:
    """The leaderboard as JSON, for `automl trials --json`."""
    return json.dumps(rows, indent=2, default=str)


__all__ = [
    "format_leaderboard",
    "is_better",
    "leaderboard",
    "maximizes",
    "ranked",
    "trials_json",
]
