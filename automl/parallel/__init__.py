"""Run one study in many processes and on many machines, and survive workers that die.

Every worker runs the same loop (`run_trials`): fail the trials of dead workers, then, under a
study-wide lock, count the trials that use the budget and ask for a new one only while there is
room; run it outside the lock while a heartbeat thread says it is alive; tell the result.

- `budget`: which trials use the budget; the lock-guarded ask (`claim_trial`).
- `lock`: a file lock next to the journal (or SQLite) file, a PostgreSQL advisory lock, or
  MySQL's `GET_LOCK`: the budget stays exact across workers.
- `heartbeat`: journal files get a heartbeat here (RDB storages use Optuna's); a RUNNING trial
  without one for the grace period is failed and retried as a new trial.
- `signals`: SIGTERM / SIGINT fail the running trial with the reason and stop the loop.
- `isolation`: `study.isolation: process` runs each trial in a fresh spawned process.
- `supervisor`: `tune --jobs N` starts N `automl worker` processes and replaces recycled ones.
- `threads`: each worker's share of the CPU threads.
- `progress`: the progress bar over trials.
"""

from automl.parallel.budget import (
    FINISHED,
    WORKER_ATTR,
    Claim,
    budget_use,
    claim_trial,
    counted_trials,
    worker_name,
)
from automl.parallel.heartbeat import HEARTBEAT_ATTR, Heartbeat, fail_stale_trials
from automl.parallel.isolation import IsolatedObjective, extra_plugins
from automl.parallel.lock import budget_lock, file_lock, lock_path
from automl.parallel.loop import LoopOutcome, run_trials
from automl.parallel.progress import Progress
from automl.parallel.signals import (
    handle_signals,
    interrupt_reason,
    interruptible,
    stop_requested,
)
from automl.parallel.supervisor import INTERRUPTED_EXIT, RECYCLE_EXIT, supervise, worker_command
from automl.parallel.threads import THREAD_VARS, limit_threads, thread_env, threads_per_worker

__all__ = [
    "FINISHED",
    "HEARTBEAT_ATTR",
    "INTERRUPTED_EXIT",
    "RECYCLE_EXIT",
    "THREAD_VARS",
    "WORKER_ATTR",
    "Claim",
    "Heartbeat",
    "IsolatedObjective",
    "LoopOutcome",
    "Progress",
    "budget_lock",
    "budget_use",
    "claim_trial",
    "counted_trials",
    "extra_plugins",
    "fail_stale_trials",
    "file_lock",
    "handle_signals",
    "interrupt_reason",
    "interruptible",
    "limit_threads",
    "lock_path",
    "run_trials",
    "stop_requested",
    "supervise",
    "thread_env",
    "threads_per_worker",
    "worker_command",
    "worker_name",
]
