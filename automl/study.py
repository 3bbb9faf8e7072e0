"""Run a study: `tune` and `automl worker` (`work`) share one driver, `run_study`.

`run_study` opens (or resumes) the study, prepares the data, chooses the objective, calls the
lifecycle hooks and runs trials within the budget with signals handled; `tune` runs it in this
process, or, with `jobs > 1` or `study.recycle_after`, starts `automl worker` processes
(`automl.parallel.supervise`) that each run it. So the two paths cannot drift apart.
"""

from __future__ import annotations

import socket
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.arrays import InMemoryData, data_space
from automl.data import load_partition
from automl.errors import AutoMLError
from automl.forecast import baseline_text
from automl.hooks import LifecycleHooks
from automl.leaderboard import format_leaderboard, leaderboard
from automl.objective import make_objective, prune_checkpoints
from automl.parallel import (
    GpuPlan,
    LoopOutcome,
    Progress,
    budget_lock,
    counted_trials,
    enable_compilation_cache,
    handle_signals,
    run_trials,
    supervise,
    worker_name,
)
from automl.plugins import Catalog, load_catalog
from automl.result import Leaderboard, TuneResult
from automl.space import default_params
from automl.spec import Spec, open_space
from automl.storage import open_study, study_dir

Callback = Callable[[optuna.Study, FrozenTrial], None]


def run_study(
    spec: Spec,
    catalog: Catalog,
    *,
    budget: int,
    timeout: float | None,
    storage: str | None,
    verbose: int = 0,
    seed_offset: int = 0,
    progress: bool = False,
    label: str = "",
) -> tuple[optuna.Study, LoopOutcome]:
    """Run trials of `spec`'s study in this process until the budget is used, the time is up,
    a signal stops it or `study.recycle_after` trials ran.

    Args:
        spec: the search space.
        catalog: the plugins' registries and hooks.
        budget: total trials of the study (all workers together).
        timeout: seconds for this run; `None` for no limit.
        storage: the storage URL or journal path given instead of `study.storage`.
        verbose: Keras fit verbosity. Defaults to `0`.
        seed_offset: added to the sampler's seed (each worker samples differently).
            Defaults to `0`.
        progress: show the progress bar. Defaults to `False`.
        label: put before each "trial N failed" line (a worker's name). Defaults to `""`.
    """
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials get one line each
    study = open_study(spec, storage, seed_offset=seed_offset)
    enable_compilation_cache(study_dir(spec))  # JAX only: trials reuse XLA compilations
    enqueue_defaults(study, spec, catalog, storage)
    partition = load_partition(spec, catalog)
    objective = make_objective(spec, partition, catalog, storage, verbose)
    hooks = LifecycleHooks(catalog)  # a failing on_trial_end / on_study_* hook warns, naming it
    done = len(counted_trials(study))
    bar = Progress(budget, done, study, progress and done < budget)
    outcome = LoopOutcome()
    hooks.on_study_start(study=study, spec=spec)
    try:
        with handle_signals():
            outcome = run_trials(
                study,
                spec,
                objective,
                budget,
                timeout=timeout,
                max_trials=spec.study.recycle_after,
                callbacks=[_after_trial(spec, hooks, bar, label), bar],
                storage=storage,
            )
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        bar.close()
        hooks.on_study_end(study=study)
    return study, outcome


def enqueue_defaults(
    study: optuna.Study, spec: Spec, catalog: Catalog, storage: str | None
) -> bool:
    """Known-good first: the first trial of a new study is every component's declared default
    (`automl.space.default_params`), so a plugin author's defaults are always tried.

    Done under the budget lock, so that of several workers starting a study only one enqueues
    it. A grid study explores its grid only. Returns whether a trial was enqueued.
    """
    if spec.study.sampler.name == "grid":
        return False
    with budget_lock(study, spec, storage):
        if study.get_trials(deepcopy=False):
            return False
        study.enqueue_trial(default_params(spec, catalog), user_attrs={"defaults": True})
    return True


def _after_trial(spec: Spec, hooks: LifecycleHooks, bar: Progress, label: str) -> Callback:
    """The callback after each trial: prune the checkpoints, show why the trial failed (unless
    the user interrupted it), call the plugins' `on_trial_end`."""

    def after_trial(study: optuna.Study, trial: FrozenTrial) -> None:
        prune_checkpoints(study, spec)
        if trial.state == TrialState.FAIL and not trial.user_attrs.get("interrupted"):
            reason = trial.user_attrs.get("fail_reason", "?")
            bar.write(f"{label}trial {trial.number} failed: {reason}")
        hooks.on_trial_end(trial=trial)

    return after_trial


def tune(
    space: str | Path | Mapping[str, Any] | Spec,
    *,
    x: Any = None,
    y: Any = None,
    x_val: Any = None,
    y_val: Any = None,
    data: Any = None,
    target: str | None = None,
    trials: int | None = None,
    timeout: float | None = None,
    storage: str | None = None,
    plugins: tuple[str, ...] = (),
    progress: bool = True,
    verbose: int = 0,
    print_leaderboard: bool = False,
    jobs: int = 1,
    catalog: Catalog | None = None,
    gpus: GpuPlan | None = None,
) -> TuneResult:
    """Tune a search space; running it again resumes the same study until the budget is spent.

    Args:
        space: a YAML path, a dict with the same schema, or a loaded `Spec`.
        x, y: arrays (n, ...) and (n,), or a DataFrame and a Series, instead of `data.source`:
            written into the study's folder with a copy of the space (`automl.arrays`).
        x_val, y_val: a fixed validation split (no random split, no folds).
        data, target: a pandas DataFrame and its target column (`x_val`: a DataFrame too).
        trials: total trial budget (finished trials count). Defaults to `study.trials`.
        timeout: seconds for this run. Defaults to `study.timeout`.
        storage: an Optuna storage URL or journal path. Defaults to `runs/<study>/journal.log`.
        plugins: local plugin modules or .py files.
        progress: show a progress bar.
        verbose: Keras fit verbosity.
        print_leaderboard: print the leaderboard when done (also after Ctrl-C).
        jobs: worker processes sharing the study (each with its share of the CPU threads).
            Defaults to `1`: trials run in this process (unless `study.recycle_after` is set).
        catalog: the registries `space` was resolved against (with a `Spec`). Defaults to
            `None`: loaded from the space's plugins.
        gpus: the GPU of each worker process (`automl.parallel.plan_gpus`); trials then run
            in worker processes even with `jobs=1`. Defaults to `None` (devices inherited).
    """
    given = InMemoryData(x, y, x_val, y_val, data, target)
    spec, catalog = _open(space, given, plugins, catalog)
    budget, run_timeout = _budget(spec, trials, timeout)
    started = time.monotonic()
    if jobs != 1 or spec.study.recycle_after or gpus is not None:
        study, interrupted = supervise(
            spec, budget, run_timeout, storage, jobs, progress, verbose, gpus
        )
    else:
        study, interrupted = _in_process(
            spec, catalog, budget, run_timeout, storage, verbose, progress
        )
    result = TuneResult(study, spec, interrupted=interrupted, catalog=catalog, storage=storage)
    return _finish(result, budget, started, print_leaderboard)


def _in_process(
    spec: Spec,
    catalog: Catalog,
    budget: int,
    timeout: float | None,
    storage: str | None,
    verbose: int,
    progress: bool,
) -> tuple[optuna.Study, bool]:
    """`tune`'s trials in this process (no workers): the study and whether a signal stopped it."""
    study, outcome = run_study(
        spec,
        catalog,
        budget=budget,
        timeout=timeout,
        storage=storage,
        verbose=verbose,
        progress=progress,
    )
    return study, outcome.interrupted


def _budget(spec: Spec, trials: int | None, timeout: float | None) -> tuple[int, float | None]:
    """The trial budget and the time limit of this run (the spec's unless given), checked."""
    budget = trials if trials is not None else spec.study.trials
    run_timeout = timeout if timeout is not None else spec.study.timeout
    if budget < 1 or (run_timeout is not None and run_timeout <= 0):
        raise AutoMLError(
            f"`trials >= 1` and `timeout > 0` must hold, but got (trials={budget}, "
            f"timeout={run_timeout})"
        )
    return budget, run_timeout


def _open(
    space: str | Path | Mapping[str, Any] | Spec,
    given: InMemoryData,
    plugins: tuple[str, ...],
    catalog: Catalog | None,
) -> tuple[Spec, Catalog]:
    """The spec and its registries; in-memory data is first written into the study's folder,
    with a copy of the space that reads it (`runs/<study>/space.yaml`)."""
    if given.given():
        if isinstance(space, Spec):
            raise AutoMLError("tune() takes arrays or a DataFrame with a YAML path or a dict space")
        space = data_space(space, given, plugins)
    if isinstance(space, Spec):
        return space, catalog if catalog is not None else load_catalog(space.plugins)
    return open_space(space, plugins)


def work(
    spec: Spec,
    catalog: Catalog,
    *,
    trials: int | None = None,
    timeout: float | None = None,
    storage: str | None = None,
    index: int = 0,
    verbose: int = 0,
) -> LoopOutcome:
    """One worker of a shared study (`automl worker`): run trials until the budget is used.

    Args:
        spec: the loaded search space.
        catalog: the registries it was resolved against.
        trials: total budget of the study (all workers). Defaults to `study.trials`.
        timeout: seconds for this worker. Defaults to `study.timeout`.
        storage: the shared storage URL. Defaults to the spec's, else the journal file.
        index: this worker's number; offsets the sampler seed so workers sample differently
            (on a database storage the host name offsets it too, for workers on other machines).
        verbose: Keras fit verbosity.
    """
    _, outcome = run_study(
        spec,
        catalog,
        budget=trials if trials is not None else spec.study.trials,
        timeout=timeout if timeout is not None else spec.study.timeout,
        storage=storage,
        verbose=verbose,
        seed_offset=worker_seed_offset(index, storage or spec.study.storage),
        label=f"[{worker_name()}] ",
    )
    return outcome


def worker_seed_offset(index: int, url: str | None) -> int:
    """1000 x the worker's index, plus a per-host offset on a database other machines share."""
    offset = 1000 * index
    if url and "://" in url and not url.startswith("sqlite"):
        offset += 1_000_000 * (zlib.crc32(socket.gethostname().encode()) % 1000)
    return offset


def _finish(result: TuneResult, budget: int, started: float, print_leaderboard: bool) -> TuneResult:
    """Fill in the leaderboard and print it (with the trial count and the time of this run)."""
    study, spec = result.study, result.spec
    result.leaderboard = Leaderboard(leaderboard(study))
    if print_leaderboard:
        elapsed = time.monotonic() - started
        note = " (interrupted: run the same command again to resume)" if result.interrupted else ""
        print(
            f"\nStudy {spec.study.name!r}: {len(counted_trials(study))}/{budget} trials, "
            f"{elapsed:.0f}s this run{note}"
        )
        print(format_leaderboard(result.leaderboard, spec.study.metrics))
        print(baseline_text(spec, result.catalog or load_catalog(spec.plugins)), end="")
    return result


__all__ = ["enqueue_defaults", "run_study", "tune", "work", "worker_seed_offset"]
