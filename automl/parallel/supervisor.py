"""`tune --jobs N`: N `automl worker` processes share one study, each with its share of the CPU
threads (and, with `--gpus`, its GPU); the ones that recycle themselves (`study.recycle_after`)
are replaced in the same slot, on the same GPU; the progress bar follows the trials they tell."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import optuna

from automl.errors import AutoMLError
from automl.parallel.budget import budget_use, counted_trials
from automl.parallel.devices import GpuPlan
from automl.parallel.isolation import extra_plugins
from automl.parallel.progress import Progress
from automl.parallel.signals import handle_signals, stop_requested
from automl.parallel.threads import thread_env, threads_per_worker
from automl.spec import Spec
from automl.storage import open_study

RECYCLE_EXIT = 75  # `automl worker` exit status: "recycled, start me again"
INTERRUPTED_EXIT = 130  # `automl worker` exit status: stopped by Ctrl-C or SIGTERM


def worker_command(
    spec: Spec,
    trials: int,
    timeout: float | None,
    storage: str | None,
    index: int,
    threads: int | None,
    verbose: int = 0,
) -> list[str]:
    """The `automl worker ...` command line of one worker process."""
    cmd = [sys.executable, "-m", "automl.cli", "worker", str(spec.path)]
    cmd += ["--trials", str(trials), "--index", str(index)]
    for plugin in extra_plugins(spec):
        cmd += ["--plugin", plugin]
    if storage:
        cmd += ["--storage", storage]
    if timeout is not None:
        cmd += ["--timeout", f"{max(timeout, 0.0):.3f}"]
    if threads:
        cmd += ["--threads", str(threads)]
    if verbose:
        cmd += ["-" + "v" * verbose]
    return cmd


class _Workers:
    """The running worker processes of one `supervise` call."""

    def __init__(
        self,
        spec: Spec,
        budget: int,
        timeout: float | None,
        storage: str | None,
        jobs: int,
        gpus: GpuPlan | None = None,
    ) -> None:
        self.spec, self.budget, self.timeout, self.storage = spec, budget, timeout, storage
        self.threads = threads_per_worker(jobs)
        self.gpus = gpus
        self.started = time.monotonic()
        self.launched = 0
        self.procs: list[subprocess.Popen[bytes]] = []
        self.slots: dict[int, int] = {}  # pid -> worker slot (which GPU it has)
        self.failures: list[int] = []
        self.interrupted = self.stopping = False

    def env(self, slot: int) -> dict[str, str]:
        """The environment of the worker in `slot`: its CPU threads, and its GPU if any."""
        gpu_env = self.gpus.env(slot) if self.gpus is not None else {}
        return {**os.environ, **thread_env(self.threads), **gpu_env}

    def start(self, verbose: int, slot: int) -> None:
        """Start a worker in `slot` with the time that is left."""
        left = None if self.timeout is None else self.timeout - (time.monotonic() - self.started)
        cmd = worker_command(
            self.spec, self.budget, left, self.storage, self.launched, self.threads, verbose
        )
        self.launched += 1
        proc = subprocess.Popen(cmd, env=self.env(slot))
        self.procs.append(proc)
        self.slots[proc.pid] = slot

    def stop(self) -> None:
        """Ctrl-C or SIGTERM: stop the workers too (each fails its running trial and exits)."""
        self.stopping = self.interrupted = True
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)

    def reap(self, verbose: int) -> None:
        """Collect the workers that ended; restart the recycled ones while there is time."""
        for p in list(self.procs):
            code = p.poll()
            if code is None:
                continue
            self.procs.remove(p)
            slot = self.slots.pop(p.pid)
            out_of_time = (
                self.timeout is not None and time.monotonic() - self.started >= self.timeout
            )
            if code == RECYCLE_EXIT and not out_of_time and not self.stopping:
                self.start(verbose, slot)
            elif code == INTERRUPTED_EXIT:
                self.interrupted = True
            elif code not in (0, RECYCLE_EXIT):
                self.failures.append(code)


def supervise(
    spec: Spec,
    budget: int,
    timeout: float | None,
    storage: str | None,
    jobs: int,
    progress: bool = True,
    verbose: int = 0,
    gpus: GpuPlan | None = None,
) -> tuple[optuna.Study, bool]:
    """Keep `jobs` worker processes running until the budget is used or the time is up,
    replacing those that recycle themselves; returns the study and whether a signal stopped it.

    Args:
        spec: the search space, read from a file (the workers read it again).
        budget: the total trial budget.
        timeout: seconds for this run; `None` for no limit.
        storage: the storage URL or journal path given instead of `study.storage`.
        jobs: worker processes at once.
        progress: show the progress bar. Defaults to `True`.
        verbose: Keras fit verbosity of the workers. Defaults to `0`.
        gpus: which GPU each worker gets (`automl.parallel.devices.plan_gpus`). Defaults to
            `None`: the workers inherit this process's devices.
    """
    if jobs < 1:
        raise AutoMLError(f"`jobs >= 1` must hold. Received: jobs={jobs}")
    if not spec.path:
        raise AutoMLError(
            "running several worker processes needs a search space read from a file, "
            "but this spec has no path (spec.path is empty)"
        )
    study = open_study(spec, storage)  # create it once, before the workers race to
    done = len(counted_trials(study))
    bar = Progress(budget, done, study, progress and done < budget)
    workers = _Workers(spec, budget, timeout, storage, jobs, gpus)
    used, waiting = budget_use(study)
    for slot in range(min(jobs, max(0, budget - used) + waiting)):
        workers.start(verbose, slot)
    try:
        with handle_signals():
            while workers.procs:
                time.sleep(0.5)
                bar.advance(len(counted_trials(study)))
                if stop_requested() and not workers.stopping:
                    workers.stop()
                workers.reap(verbose)
    finally:
        bar.advance(len(counted_trials(study)))
        bar.close()
    if workers.failures:
        count, codes = len(workers.failures), workers.failures
        print(f"warning: {count} worker(s) exited with status {codes}", file=sys.stderr)
    return study, workers.interrupted
