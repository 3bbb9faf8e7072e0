"""Run one study in many processes and on many machines, and survive workers that die.

Every worker runs the same loop (`run_trials`): fail the trials of dead workers, then, under a
study-wide lock, count the trials that use the budget and ask for a new one only while there is
room; run it outside the lock while a heartbeat thread says it is alive; tell the result.

- The lock makes the budget exact across workers: a file lock next to the journal file (or the
  SQLite file), a PostgreSQL advisory lock, or MySQL's `GET_LOCK`.
- Heartbeats: RDB storages use Optuna's own (`RDBStorage(heartbeat_interval, grace_period)`);
  journal files get one here (a trial system attribute). A RUNNING trial whose heartbeat is older
  than the grace period belonged to a dead worker: it is failed and retried once more as a new
  trial (`RetryFailedTrialCallback`), and the failed one no longer counts toward the budget.
- `tune --jobs N` (`supervise`) starts N `automl worker` processes, each limited to its share of
  the CPU threads, restarts the ones that recycle themselves (`study.recycle_after`), shows the
  progress bar and prints the leaderboard.
- `study.isolation: process` runs each trial in a fresh subprocess (spawn), so whatever memory a
  trial leaks goes back to the system when it ends.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.errors import AutoMLError, TrialFailed

logger = logging.getLogger("automl.workers")

HEARTBEAT_ENV = "AUTOML_HEARTBEAT_INTERVAL"
GRACE_ENV = "AUTOML_GRACE_PERIOD"
HEARTBEAT_ATTR = "automl:heartbeat"
WORKER_ATTR = "worker"
MAX_RETRY = 3
RECYCLE_EXIT = 75  # `automl worker` exit status: "recycled, start me again"
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


# ------------------------------------------------------------------------------ settings
def heartbeat_settings() -> tuple[int, int]:
    """(heartbeat interval, grace period) in seconds: `$AUTOML_HEARTBEAT_INTERVAL` (10) and
    `$AUTOML_GRACE_PERIOD` (30). A trial without a heartbeat for the grace period is failed."""
    values = []
    for name, default in ((HEARTBEAT_ENV, 10), (GRACE_ENV, 30)):
        raw = os.environ.get(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise AutoMLError(
                f"${name} must be a whole number of seconds. Received: {name}={raw!r}"
            ) from None
        if value < 1:
            raise AutoMLError(f"${name} must be >= 1. Received: {name}={raw!r}")
        values.append(value)
    interval, grace = values
    if grace <= interval:
        raise AutoMLError(
            f"`heartbeat interval < grace period` must hold, but got "
            f"({HEARTBEAT_ENV}={interval}, {GRACE_ENV}={grace})"
        )
    return interval, grace


def database_url(url: str) -> str:
    """`postgresql://` with the driver that is installed: SQLAlchemy 2.1 defaults to psycopg 3,
    the `postgres` extra installs psycopg2."""
    import importlib.util

    missing = importlib.util.find_spec("psycopg") is None
    if url.startswith("postgresql://") and missing and importlib.util.find_spec("psycopg2"):
        return "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def rdb_storage(url: str) -> optuna.storages.RDBStorage:
    """An RDB storage with heartbeats: a dead worker's trial is failed after the grace period
    and retried as a new trial."""
    import inspect

    interval, grace = heartbeat_settings()
    accepted = inspect.signature(optuna.storages.RDBStorage).parameters
    name = (
        "heartbeat_stale_trial_callback"  # Optuna >= 5 (failed_trial_callback is deprecated)
        if "heartbeat_stale_trial_callback" in accepted
        else "failed_trial_callback"
    )
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(
                database_url(url),
                engine_kwargs={"pool_pre_ping": True},
                heartbeat_interval=interval,
                grace_period=grace,
                **{name: retry_callback()},
            )
        except SQLAlchemyError:
            # workers starting at once on a fresh database race to create its tables
            if attempt == 4:
                raise
            time.sleep(0.5 + attempt)
    raise AssertionError("unreachable")


def retry_callback() -> Callable[[optuna.Study, FrozenTrial], None]:
    """Re-enqueue the trial of a dead worker (at most `MAX_RETRY` times)."""
    # Optuna 4.9 renamed RetryFailedTrialCallback (same behaviour and system attributes)
    cls = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if cls is None:
        cls = optuna.storages.RetryFailedTrialCallback
    return cls(max_retry=MAX_RETRY)


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that cap a worker's CPU threads (BLAS, OpenMP, TensorFlow)."""
    if threads < 1:
        raise AutoMLError(f"threads must be >= 1. Received: threads={threads}")
    env = {name: str(threads) for name in THREAD_VARS}
    env["TF_NUM_INTEROP_THREADS"] = str(min(threads, 2))
    return env


def limit_threads(threads: int | None) -> None:
    """Cap this process's CPU threads; call it before TensorFlow is imported."""
    if not threads:
        return
    os.environ.update(thread_env(threads))
    if "tensorflow" in sys.modules:  # already imported: tell it directly (before its first op)
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))


def threads_per_worker(jobs: int) -> int:
    """The CPU cores divided among `jobs` workers (at least 1 each)."""
    return max(1, (os.cpu_count() or 1) // jobs)


# ------------------------------------------------------------------------------ counting
def retried_numbers(trials: Sequence[FrozenTrial]) -> dict[int, int]:
    """{failed trial number: number of the trial that retried it}."""
    out: dict[int, int] = {}
    for t in trials:
        for number in t.system_attrs.get("retry_history", ()):
            out.setdefault(number, t.number)
    return out


def budget_use(study: optuna.Study) -> tuple[int, int]:
    """(trials that use the budget, of which WAITING): finished ones except those stopped by
    the user or retried after their worker died, plus RUNNING and WAITING ones."""
    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    used = waiting = 0
    for t in trials:
        if t.state in (TrialState.RUNNING, TrialState.WAITING):
            used += 1
            waiting += t.state == TrialState.WAITING
        elif not t.user_attrs.get("interrupted") and t.number not in retried:
            used += 1
    return used, waiting


# ------------------------------------------------------------------------------ the lock
def _file_lock(path: Path) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def lock() -> Iterator[None]:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    return lock()


def _unwrap(storage: optuna.storages.BaseStorage) -> optuna.storages.BaseStorage:
    # optuna wraps an RDBStorage in a private `_CachedStorage`
    if type(storage).__name__ == "_CachedStorage":
        return storage._backend  # type: ignore[attr-defined]
    return storage


@contextlib.contextmanager
def budget_lock(study: optuna.Study, spec: Any, storage: str | None) -> Iterator[None]:
    """A lock held by one worker of `study` at a time, on one machine or many."""
    from automl.study import study_dir

    url = storage or spec.study.storage
    backend = _unwrap(study._storage)
    if isinstance(backend, optuna.storages.RDBStorage):
        from sqlalchemy import text

        dialect = backend.engine.dialect.name
        key = f"automl:{study.study_name}"
        if dialect == "postgresql":
            with backend.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
                    conn.commit()
            return
        if dialect == "mysql":
            with backend.engine.connect() as conn:
                conn.execute(text("SELECT GET_LOCK(:k, -1)"), {"k": key})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT RELEASE_LOCK(:k)"), {"k": key})
            return
        if dialect == "sqlite" and url and url.startswith("sqlite:///"):
            with _file_lock(Path(url[len("sqlite:///") :] + ".automl-lock")):
                yield
            return
        yield
        return
    if isinstance(backend, optuna.storages.JournalStorage):
        path = Path(url) if url and "://" not in url else study_dir(spec) / "journal.log"
        # not `<journal>.lock`: Optuna's own journal lock uses that name
        with _file_lock(path.with_name(path.name + ".automl-lock")):
            yield
        return
    yield


# ------------------------------------------------------------------------------ heartbeats
def _heartbeat_storage(study: optuna.Study) -> optuna.storages.BaseStorage | None:
    """The storage if it has Optuna's own heartbeat enabled (RDB with heartbeat_interval)."""
    from optuna.storages._heartbeat import BaseHeartbeat  # not exported, but stable since 2.x

    storage = study._storage
    if isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval():
        return storage
    return None


class Heartbeat:
    """A thread that records `trial` as alive every interval until stopped."""

    def __init__(self, study: optuna.Study, trial_id: int, interval: float) -> None:
        self.study, self.trial_id, self.interval = study, trial_id, interval
        self.native = _heartbeat_storage(study)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="automl-heartbeat", daemon=True)

    def beat(self) -> None:
        """Record one heartbeat now."""
        if self.native is not None:
            self.native.record_heartbeat(self.trial_id)  # type: ignore[attr-defined]
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
    if _heartbeat_storage(study) is not None:
        before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
        optuna.storages.fail_stale_trials(study)
        after = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        return sorted(t.number for t in after if t.number not in before)
    now = time.time()
    storage = study._storage
    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        last = t.system_attrs.get(HEARTBEAT_ATTR)
        if last is None and t.datetime_start is not None:
            last = t.datetime_start.timestamp()
        if last is None or now - last <= grace:
            continue
        try:
            storage.set_trial_user_attr(
                t._trial_id, "fail_reason", f"its worker stopped sending heartbeats for {grace:g}s"
            )
            if not storage.set_trial_state_values(t._trial_id, TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        frozen = copy.deepcopy(storage.get_trial(t._trial_id))
        frozen.user_attrs.pop("fail_reason", None)  # the retry starts clean
        frozen.system_attrs.pop(HEARTBEAT_ATTR, None)
        retry_callback()(study, frozen)
        failed.append(t.number)
    return failed


# ------------------------------------------------------------------------------ the loop
@dataclass
class LoopOutcome:
    """What `run_trials` did: trials run here, and why it stopped."""

    ran: int = 0
    interrupted: bool = False
    recycle: bool = False


def worker_name() -> str:
    """`host:pid`, recorded on each trial (user attribute `worker`)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_trials(
    study: optuna.Study,
    spec: Any,
    objective: Callable[[optuna.Trial], float],
    budget: int,
    *,
    timeout: float | None = None,
    max_trials: int | None = None,
    callbacks: Sequence[Callable[[optuna.Study, FrozenTrial], None]] = (),
    storage: str | None = None,
) -> LoopOutcome:
    """Run trials until the study's budget is used (by all workers together), `timeout` seconds
    passed, or this process ran `max_trials` (then `recycle` is set). When the budget is taken
    but other workers still run trials, it waits for them, so that it can retry the trial of a
    worker that dies (after the grace period) instead of leaving it RUNNING.

    Ctrl-C (and SIGTERM where `handle_signals` is on) fails the running trial with its reason
    and stops the loop; any other exception fails the trial and the loop goes on.
    """
    interval, grace = heartbeat_settings()
    outcome = LoopOutcome()
    started = time.monotonic()
    while True:
        if timeout is not None and time.monotonic() - started >= timeout:
            return outcome
        if _signals.stop:
            outcome.interrupted = True
            return outcome
        if max_trials is not None and outcome.ran >= max_trials:
            outcome.recycle = True
            return outcome
        trial = None
        with budget_lock(study, spec, storage):
            fail_stale_trials(study, grace)
            used, waiting = budget_use(study)
            if used < budget or waiting:
                trial = study.ask()
                trial.set_user_attr(WORKER_ATTR, worker_name())
                heartbeat = Heartbeat(study, trial._trial_id, interval)
                heartbeat.beat()
            elif not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                return outcome
        if trial is None:
            # the budget is taken but other workers still run trials: stay, to retry them if
            # their worker dies before they end
            time.sleep(min(interval, 1.0))
            continue
        outcome.ran += 1
        state, value = TrialState.FAIL, None
        try:
            with heartbeat:
                _signals.in_trial = not _signals.stop
                try:
                    value = objective(trial)
                finally:
                    _signals.in_trial = False
            state = TrialState.COMPLETE
        except optuna.TrialPruned:
            state = TrialState.PRUNED
        except KeyboardInterrupt:
            outcome.interrupted = True
        except Exception as exc:
            logger.debug("trial %d failed: %s", trial.number, exc)
        frozen = _tell(study, trial, state, value)
        if frozen is not None:
            for callback in callbacks:
                callback(study, frozen)
        if outcome.interrupted or _signals.stop:
            outcome.interrupted = True
            return outcome
        # no gc.collect() here: the next trial starts with keras.utils.clear_session(free_memory)


def _tell(
    study: optuna.Study, trial: optuna.Trial, state: TrialState, value: float | None
) -> FrozenTrial | None:
    try:
        if state == TrialState.COMPLETE:
            return study.tell(trial, value)
        return study.tell(trial, state=state)
    except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError, ValueError) as exc:
        # another worker failed it as stale meanwhile (this worker looked dead): its retry runs
        logger.warning("trial %d could not be recorded: %s", trial.number, exc)
        return None


class _Signals:
    """What the SIGTERM/SIGINT handler of `handle_signals` shares with the loops."""

    stop = False  # a signal came: start no new trial
    in_trial = False  # the objective runs: the handler may interrupt it


_signals = _Signals()


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """SIGTERM and SIGINT stop the worker cleanly: the running trial is interrupted and failed
    with the reason (not left RUNNING), and no new trial starts.

    The handler raises `KeyboardInterrupt` only inside a trial (once), never while a result is
    being recorded; elsewhere the loops see `_signals.stop` and return. Where Python swallows the
    exception (a signal landing in a finalizer), the trial ends normally and the loop stops.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        _signals.stop = True
        if _signals.in_trial:
            _signals.in_trial = False
            raise KeyboardInterrupt(signal.Signals(signum).name)

    _signals.stop = _signals.in_trial = False
    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        _signals.stop = _signals.in_trial = False


# ------------------------------------------------------------------------------ isolation
def extra_plugins(spec: Any) -> tuple[str, ...]:
    """The `--plugin` modules of `spec` (those not already listed in its YAML file)."""
    from automl.spec import read_space

    if not spec.path:
        return tuple(spec.plugins)
    listed = read_space(spec.path).plugins
    return tuple(spec.plugins[len(listed) :])


class IsolatedObjective:
    """Run each trial in a fresh spawned process; the parent only asks, beats and tells."""

    def __init__(self, spec: Any, storage: str | None, verbose: int = 0) -> None:
        if not spec.path:
            raise AutoMLError(
                "`isolation: process` needs a search space read from a file (spec.path is empty)"
            )
        self.args = (spec.path, extra_plugins(spec), storage, verbose)

    def __call__(self, trial: optuna.Trial) -> float:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(
            target=_isolated_trial,
            args=(*self.args, trial._trial_id, trial.number, send),
            daemon=True,
        )
        process.start()
        send.close()
        try:
            message = receive.recv()
        except EOFError:
            message = None
        except KeyboardInterrupt:
            process.terminate()
            process.join()
            trial.set_user_attr("interrupted", True)
            trial.set_user_attr("fail_reason", "interrupted by the user (Ctrl-C or SIGTERM)")
            raise
        finally:
            receive.close()
        process.join()
        if message is None:
            reason = f"the trial process died (exit status {process.exitcode})"
            trial.set_user_attr("fail_reason", reason)
            raise TrialFailed(reason)
        kind, payload = message
        if kind == "complete":
            return float(payload)
        if kind == "pruned":
            raise optuna.TrialPruned(payload)
        if kind == "interrupted":
            raise KeyboardInterrupt
        raise TrialFailed(payload)


def _isolated_trial(
    path: str,
    plugins: tuple[str, ...],
    storage: str | None,
    verbose: int,
    trial_id: int,
    number: int,
    send: Any,
) -> None:
    """The body of one isolated trial (in its own process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from automl.data import load_splits
        from automl.spec import open_space
        from automl.study import _Objective, open_study

        spec, catalog = open_space(path, plugins)
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        # a fresh sampler per trial: seed it by trial number, or every trial samples alike
        study = open_study(spec, storage, create=False, seed_offset=number)
        splits = load_splits(spec, catalog)
        trial = optuna.trial.Trial(study, trial_id)
        value = _Objective(spec, splits, catalog, verbose)(trial)
        send.send(("complete", value))
    except optuna.TrialPruned as exc:
        send.send(("pruned", str(exc)))
    except KeyboardInterrupt:
        send.send(("interrupted", None))
    except Exception as exc:
        send.send(("fail", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


# ------------------------------------------------------------------------------ one worker
def work(
    spec: Any,
    catalog: Any,
    trials: int | None = None,
    timeout: float | None = None,
    storage: str | None = None,
    index: int = 0,
    verbose: int = 0,
) -> LoopOutcome:
    """One worker of a shared study (`automl worker`): run trials until the budget is used.

    Args:
        spec: the loaded search space.
        trials: total budget of the study (all workers). Defaults to `study.trials`.
        timeout: seconds for this worker. Defaults to `study.timeout`.
        storage: the shared storage URL. Defaults to the spec's, else the journal file.
        index: this worker's number; offsets the sampler seed so workers sample differently
            (on a database storage the host name offsets it too, for workers on other machines).
        verbose: Keras fit verbosity.
    """
    from automl.data import load_splits
    from automl.study import _Objective, open_study, prune_checkpoints

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    budget = trials if trials is not None else spec.study.trials
    run_timeout = timeout if timeout is not None else spec.study.timeout
    seed_offset = 1000 * index
    url = storage or spec.study.storage
    if url and "://" in url and not url.startswith("sqlite"):  # a database: other machines too
        import zlib

        seed_offset += 1_000_000 * (zlib.crc32(socket.gethostname().encode()) % 1000)
    study = open_study(spec, storage, seed_offset=seed_offset)
    splits = load_splits(spec, catalog)
    hook = catalog.hooks  # a failing plugin hook warns (or fails its trial), naming it
    objective: Callable[[optuna.Trial], float]
    if spec.study.isolation == "process":
        objective = IsolatedObjective(spec, storage, verbose)
    else:
        objective = _Objective(spec, splits, catalog, verbose)

    def after_trial(study: optuna.Study, trial: FrozenTrial) -> None:
        prune_checkpoints(study, spec)
        if trial.state == TrialState.FAIL and not trial.user_attrs.get("interrupted"):
            print(
                f"[{worker_name()}] trial {trial.number} failed: "
                f"{trial.user_attrs.get('fail_reason', '?')}",
                file=sys.stderr,
            )
        hook.on_trial_end(trial=trial)

    hook.on_study_start(study=study, spec=spec)
    try:
        with handle_signals():
            return run_trials(
                study,
                spec,
                objective,
                budget,
                timeout=run_timeout,
                max_trials=spec.study.recycle_after,
                callbacks=[after_trial],
                storage=storage,
            )
    finally:
        hook.on_study_end(study=study)


# ------------------------------------------------------------------------------ supervisor
def worker_command(
    spec: Any,
    trials: int,
    timeout: float | None,
    storage: str | None,
    index: int,
    threads: int | None,
    verbose: int = 0,
) -> list[str]:
    """The `automl worker ...` command line of one worker process."""
    cmd = [
        sys.executable,
        "-m",
        "automl.cli",
        "worker",
        str(spec.path),
        "--trials",
        str(trials),
        "--index",
        str(index),
    ]
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


def supervise(
    spec: Any,
    catalog: Any,
    budget: int,
    timeout: float | None,
    storage: str | None,
    jobs: int,
    progress: bool = True,
    verbose: int = 0,
) -> Any:
    """`tune --jobs N`: keep N worker processes running until the budget is used or the time is
    up, replacing those that recycle themselves; returns a `TuneResult`."""
    from automl.study import TuneResult, _Progress, counted_trials, open_study

    if jobs < 1:
        raise AutoMLError(f"`jobs >= 1` must hold. Received: jobs={jobs}")
    if not spec.path:
        raise AutoMLError("running several worker processes needs a search space read from a file")
    study = open_study(spec, storage)  # create it once, before the workers race to
    result = TuneResult(study, spec, catalog)
    done = len(counted_trials(study))
    bar = _Progress(budget, done, study, progress and done < budget)
    threads = threads_per_worker(jobs)
    started = time.monotonic()
    launched = 0

    def start() -> subprocess.Popen[bytes]:
        nonlocal launched
        left = None if timeout is None else timeout - (time.monotonic() - started)
        cmd = worker_command(spec, budget, left, storage, launched, threads, verbose)
        launched += 1
        return subprocess.Popen(cmd, env={**os.environ, **thread_env(threads)})

    used, waiting = budget_use(study)
    procs = [start() for _ in range(min(jobs, max(0, budget - used) + waiting))]
    failures: list[int] = []
    stopping = False
    try:
        with handle_signals():
            while procs:
                time.sleep(0.5)
                _advance(bar, len(counted_trials(study)))
                if _signals.stop and not stopping:  # Ctrl-C or SIGTERM: stop the workers too
                    stopping = result.interrupted = True
                    for p in procs:
                        with contextlib.suppress(ProcessLookupError):
                            p.send_signal(signal.SIGTERM)
                for p in list(procs):
                    code = p.poll()
                    if code is None:
                        continue
                    procs.remove(p)
                    out_of_time = timeout is not None and time.monotonic() - started >= timeout
                    if code == RECYCLE_EXIT and not out_of_time and not stopping:
                        procs.append(start())
                    elif code == 130:
                        result.interrupted = True
                    elif code not in (0, RECYCLE_EXIT):
                        failures.append(code)
    finally:
        _advance(bar, len(counted_trials(study)))
        bar.close()
    if failures:
        print(f"warning: {len(failures)} worker(s) exited with status {failures}", file=sys.stderr)
    return result


def _advance(bar: Any, done: int) -> None:
    if bar.bar is not None and done > bar.bar.n:
        bar.bar.update(min(done, bar.bar.total) - bar.bar.n)
        bar.refresh()


__all__ = [
    "Heartbeat",
    "IsolatedObjective",
    "LoopOutcome",
    "budget_lock",
    "budget_use",
    "fail_stale_trials",
    "handle_signals",
    "heartbeat_settings",
    "limit_threads",
    "retried_numbers",
    "run_trials",
    "supervise",
    "thread_env",
    "work",
]
