"""The progress bar over trials: done / pruned / failed, best score (with several objectives:
the size of the Pareto front), elapsed and remaining.

On a terminal it is a tqdm bar; when stderr is a pipe or a file (a log, CI) it prints one plain
line per trial instead, with no carriage-return redraws.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.console import is_terminal
from automl.parallel.budget import FINISHED


class Progress:
    """A tqdm bar over the trial budget, also an Optuna-style callback (one trial told).

    Args:
        total: the trial budget.
        initial: trials already counted.
        study: the study whose trials it counts.
        enabled: show the bar (a line per trial when stderr is not a terminal); when `False`
            only `write` prints (to stderr).
    """

    def __init__(self, total: int, initial: int, study: optuna.Study, enabled: bool) -> None:
        self.study, self.total, self.shown = study, total, initial
        self.bar: Any = None
        self.lines = enabled and not is_terminal(sys.stderr)
        if enabled and not self.lines:
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
        elif self.lines:
            self.shown += 1
            value = f" {trial.value:.4f}" if trial.value is not None else ""
            self._line(f"trial {trial.number} {trial.state.name.lower()}{value}")

    def advance(self, done: int) -> None:
        """Show `done` counted trials (told by other processes)."""
        if self.bar is not None and done > self.bar.n:
            self.bar.update(min(done, self.bar.total) - self.bar.n)
            self.refresh()
        elif self.lines and done > self.shown:
            self.shown = done
            self._line("progress")

    def _line(self, what: str) -> None:
        """`trial 4 complete 0.9833 (5/12 trials, best 0.9917)` on stderr, for logs."""
        best = "-"
        with contextlib.suppress(ValueError):
            best = f"{self.study.best_value:.4f}"
        print(
            f"{what} ({min(self.shown, self.total)}/{self.total} trials, best {best})",
            file=sys.stderr,
        )

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
