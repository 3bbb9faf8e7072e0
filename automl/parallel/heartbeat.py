"""Heartbeats: a worker records that its trial is alive; the trials of dead workers are failed
and retried.

RDB storages use Optuna's own heartbeats (`automl.storage.rdb_storage`); journal files get one
here, a trial system attribute. A RUNNING trial whose heartbeat is older than the grace period
belonged to a dead worker: it is failed and retried once more as a new trial, and the failed one
no longer counts toward the budget.
"""

from __future__ import annotations

import copy
import threading
import time

import optuna
from optuna.storages._heartbeat import BaseHeartbeat  # not exported, but stable since 2.x
from optuna.trial import TrialState

from automl.storage import retry_callback

HEARTBEAT_ATTR = "automl:heartbeat"


def _native(study: optuna.Study) -> BaseHeartbeat | None:
    """The storage if it has Optuna's own heartbeat enabled (RDB with heartbeat_interval)."""
    storage = study._storage
    if isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval():
        return storage
    return None


class Heartbeat:
    """A thread that records `trial` as alive every `interval` seconds until stopped.

    Args:
        study: the study of the trial.
        trial_id: the storage's id of the trial.
        interval: seconds between two heartbeats.
    """

    def __init__(self, study: optuna.Study, trial_id: int, interval: float) -> None:
        self.study, self.trial_id, self.interval = study, trial_id, interval
        self.native = _native(study)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="automl-heartbeat", daemon=True)

    def beat(self) -> None:
        """Record one heartbeat now."""
        if self.native is not None:
            self.native.record_heartbeat(self.trial_id)
        else:
            self.study._storage.set_trial_system_attr(self.trial_id, HEARTBEAT_ATTR, time.time())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:  # finished meanwhile (failed as stale, told): nothing to keep alive
                return

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def fail_stale_trials(study: optuna.Study, grace: float) -> list[int]:
    """Fail the RUNNING trials of dead workers and enqueue their retries; returns their numbers.

    RDB storages use Optuna's heartbeat table; other storages (the journal file) the heartbeat
    attribute written by `Heartbeat`, or the start time of a trial that never wrote one. Call it
    under `budget_lock` so that two workers never retry the same trial.
    """
    if _native(study) is not None:
        before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
        optuna.storages.fail_stale_trials(study)
        after = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        return sorted(t.number for t in after if t.number not in before)
    now = time.time()
    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        last = t.system_attrs.get(HEARTBEAT_ATTR)
        if last is None and t.datetime_start is not None:
            last = t.datetime_start.timestamp()
        if last is not None and now - last > grace and _fail_and_retry(study, t._trial_id, grace):
            failed.append(t.number)
    return failed


def _fail_and_retry(study: optuna.Study, trial_id: int, grace: float) -> bool:
    """Fail one stale trial with the reason and enqueue its retry; False if another worker
    finished or failed it first."""
    storage = study._storage
    try:
        storage.set_trial_user_attr(
            trial_id, "fail_reason", f"its worker stopped sending heartbeats for {grace:g}s"
        )
        if not storage.set_trial_state_values(trial_id, TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    frozen = copy.deepcopy(storage.get_trial(trial_id))
    frozen.user_attrs.pop("fail_reason", None)  # the retry starts clean
    frozen.system_attrs.pop(HEARTBEAT_ATTR, None)
    retry_callback()(study, frozen)
    return True
