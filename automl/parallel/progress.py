"""The progress bar over trials: done / pruned / failed, best score (with several objectives:
the size of the Pareto front), elapsed and remaining."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.parallel.budget import FINISHED


class Progress:
    """A tqdm bar over the trial budget, also an Optuna-style callback (one trial told).

    Args:
        total: the trial budget.
        initial: trials already counted.
        study: the study whose trials it counts.
        enabled: show the bar; when `False` only `write` prints (to stderr).
    """

    def __init__(self, total: int, initial: int, study: optuna.Study, enabled: bool) -> None:
        self.study = study
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total, initial=min(initial, total), unit="trial", dynamic_ncols=True
            )
            self.refresh()

    def refresh(self) -> None:
        """Update the counts and the best score shown."""
        if self.bar is None:
            return
        counts = dict.fromkeys(FINISHED, 0)
        for t in self.study.get_trials(deepcopy=False, states=FINISHED):
            counts[t.state] += 1
        best: dict[str, Any] = {}
        if len(self.study.directions) > 1:
            best["front"] = len(self.study.best_trials)
        else:
            with contextlib.suppress(ValueError):  # no complete (feasible) trial yet
                best["best"] = f"{self.study.best_value:.4f}"
        self.bar.set_postfix(
            done=counts[TrialState.COMPLETE],
            pruned=counts[TrialState.PRUNED],
            failed=counts[TrialState.FAIL],
            **(best or {"best": "-"}),
        )

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """One more trial was told (in this process)."""
        if self.bar is not None:
            self.bar.update(1)
            self.refresh()

    def advance(self, done: int) -> None:
        """Show `done` counted trials (told by other processes)."""
        if self.bar is not None and done > self.bar.n:
            self.bar.update(min(done, self.bar.total) - self.bar.n)
            self.refresh()

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()

    def write(self, message: str) -> None:
        """Print a line without breaking the bar."""
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message, file=sys.stderr)
