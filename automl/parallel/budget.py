"""The trial budget, shared by every worker: which trials use it, and the lock-guarded ask.

A trial uses the budget while it runs or waits, and once it finished, unless the user stopped it
(Ctrl-C, SIGTERM: user attribute `interrupted`) or its worker died and it was retried as a new
trial. Workers ask for a trial only under `budget_lock`, after counting, so the budget is exact.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import NamedTuple

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.parallel.heartbeat import Heartbeat, fail_stale_trials
from automl.parallel.lock import budget_lock
from automl.spec import Spec
from automl.storage import retried_numbers

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
WORKER_ATTR = "worker"


def _spent(trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    """The finished trials that count: not stopped by the user, not retried as a new trial."""
    retried = retried_numbers(trials)
    return [
        t
        for t in trials
        if t.state in FINISHED and not t.user_attrs.get("interrupted") and t.number not in retried
    ]


def counted_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The finished trials that use the budget (the `N` of "N/budget trials")."""
    return _spent(study.get_trials(deepcopy=False))


def budget_use(study: optuna.Study) -> tuple[int, int]:
    """(trials that use the budget, of which WAITING): the counted finished trials plus the
    RUNNING and WAITING ones."""
    trials = study.get_trials(deepcopy=False)
    waiting = sum(t.state == TrialState.WAITING for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    return len(_spent(trials)) + running + waiting, waiting


def worker_name() -> str:
    """`host:pid`, recorded on each trial (user attribute `worker`)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Claim(NamedTuple):
    """What one lock-guarded ask got: a trial (with its heartbeat), or none."""

    trial: optuna.Trial | None = None
    heartbeat: Heartbeat | None = None
    others_running: bool = False  # no room, but other workers' trials may still die and retry


def claim_trial(
    study: optuna.Study,
    spec: Spec,
    storage: str | None,
    budget: int,
    heartbeat: tuple[float, float],
) -> Claim:
    """Under `budget_lock`: fail the trials of dead workers, then ask for a trial while the
    budget has room (or a retry waits), recording this worker and a first heartbeat on it.

    Args:
        study: the shared study.
        spec: its search space (for the lock).
        storage: the storage URL given instead of `study.storage`.
        budget: the total trial budget of all workers.
        heartbeat: (interval, grace period) in seconds.
    """
    interval, grace = heartbeat
    with budget_lock(study, spec, storage):
        fail_stale_trials(study, grace)
        used, waiting = budget_use(study)
        if used < budget or waiting:
            trial = study.ask()
            trial.set_user_attr(WORKER_ATTR, worker_name())
            beat = Heartbeat(study, trial._trial_id, interval)
            beat.beat()
            return Claim(trial, beat)
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        return Claim(others_running=bool(running))
