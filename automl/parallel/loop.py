"""The loop every worker runs: claim a trial within the budget, run it alive, tell the result.

The trial runs outside the lock while a heartbeat thread says it is alive. Ctrl-C (and SIGTERM
where `handle_signals` is on) fails the running trial with its reason and stops the loop; a
`StorageError` (a full disk) stops it too, since every next trial would fail alike; any other
exception fails the trial and the loop goes on.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.errors import StorageError
from automl.parallel.budget import Claim, claim_trial
from automl.parallel.isolation import Values
from automl.parallel.signals import interruptible, stop_requested
from automl.spec import Spec
from automl.storage import heartbeat_settings

logger = logging.getLogger("automl.parallel")

Callback = Callable[[optuna.Study, FrozenTrial], None]


@dataclass
class LoopOutcome:
    """What `run_trials` did: trials run here, and why it stopped."""

    ran: int = 0
    interrupted: bool = False
    recycle: bool = False


def run_trials(
    study: optuna.Study,
    spec: Spec,
    objective: Callable[[optuna.Trial], Values],
    budget: int,
    *,
    timeout: float | None = None,
    max_trials: int | None = None,
    callbacks: Sequence[Callback] = (),
    storage: str | None = None,
) -> LoopOutcome:
    """Run trials until the study's budget is used (by all workers together), `timeout` seconds
    passed, or this process ran `max_trials` (then `recycle` is set). When the budget is taken
    but other workers still run trials, it waits for them, so that it can retry the trial of a
    worker that dies (after the grace period) instead of leaving it RUNNING.

    Args:
        study: the shared study.
        spec: its search space (the study name and `study.storage`, for the lock).
        objective: runs one trial; returns its value(s) or raises (`optuna.TrialPruned`, ...).
        budget: total trials of the study, all workers together.
        timeout: seconds for this loop. Defaults to `None`: no limit.
        max_trials: trials this process runs before it asks to be recycled. Defaults to `None`.
        callbacks: called with each trial once it is told, like Optuna's `optimize` callbacks.
        storage: the storage URL or journal path given instead of `study.storage`.
    """
    settings = heartbeat_settings()
    outcome = LoopOutcome()
    started = time.monotonic()
    while not _should_stop(outcome, started, timeout, max_trials):
        claim = claim_trial(study, spec, storage, budget, settings)
        if claim.trial is None:
            if not claim.others_running:
                return outcome
            # the budget is taken but other workers still run trials: stay, to retry them if
            # their worker dies before they end
            time.sleep(min(settings[0], 1.0))
            continue
        outcome.ran += 1
        frozen = _run_one(study, claim, objective, outcome)
        if frozen is not None:
            for callback in callbacks:
                callback(study, frozen)
        if outcome.interrupted or stop_requested():
            outcome.interrupted = True
            return outcome
        # no gc.collect() here: the next trial starts with keras.utils.clear_session(free_memory)
    return outcome


def _should_stop(
    outcome: LoopOutcome, started: float, timeout: float | None, max_trials: int | None
) -> bool:
    """Out of time, stopped by a signal (`interrupted`) or due for recycling (`recycle`)."""
    if timeout is not None and time.monotonic() - started >= timeout:
        return True
    if stop_requested():
        outcome.interrupted = True
        return True
    if max_trials is not None and outcome.ran >= max_trials:
        outcome.recycle = True
        return True
    return False


def _run_one(
    study: optuna.Study,
    claim: Claim,
    objective: Callable[[optuna.Trial], Values],
    outcome: LoopOutcome,
) -> FrozenTrial | None:
    """Run the claimed trial with its heartbeat and tell its result."""
    assert claim.trial is not None and claim.heartbeat is not None
    trial = claim.trial
    state, value = TrialState.FAIL, None
    try:
        with claim.heartbeat, interruptible():
            value = objective(trial)
        state = TrialState.COMPLETE
    except optuna.TrialPruned:
        state = TrialState.PRUNED
    except KeyboardInterrupt:
        outcome.interrupted = True
    except StorageError:
        # the storage failed (a full disk), not the trial: stop here, or every next trial
        # would fail the same way and use up the budget; the next run fails and retries it
        with contextlib.suppress(Exception):
            _tell(study, trial, TrialState.FAIL, None)
        raise
    except Exception as exc:
        logger.debug("trial %d failed: %s", trial.number, exc)
    return _tell(study, trial, state, value)


def _tell(
    study: optuna.Study, trial: optuna.Trial, state: TrialState, value: Values | None
) -> FrozenTrial | None:
    try:
        if state == TrialState.COMPLETE:
            return study.tell(trial, value)
        return study.tell(trial, state=state)
    except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError, ValueError) as exc:
        # another worker failed it as stale meanwhile (this worker looked dead): its retry runs
        logger.warning("trial %d could not be recorded: %s", trial.number, exc)
        return None
