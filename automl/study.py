"""Create or resume a study, run trials, rank them.

The default storage is an Optuna journal file, `runs/<study>/journal.log`: safe for several
processes at once and readable by `optuna-dashboard runs/<study>/journal.log`. Any Optuna storage
URL (sqlite:///..., postgresql://...) is accepted instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl import samplers
from automl.data import Splits, load_splits
from automl.errors import StudyError
from automl.plugins import Catalog, load_catalog
from automl.space import sample_config
from automl.spec import Spec, diff_spaces, grid_search_space, open_space

RUNS_DIR_ENV = "AUTOML_RUNS_DIR"
SPACE_HASH_ATTR = "space_hash"
SPACE_ATTR = "space"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def runs_dir() -> Path:
    """Where studies keep their files: `$AUTOML_RUNS_DIR`, else `./runs`."""
    return Path(os.environ.get(RUNS_DIR_ENV, "runs"))


def study_dir(spec: Spec) -> Path:
    """`runs/<study name>/`: the journal file and the trial checkpoints."""
    return runs_dir() / spec.study.name


def checkpoint_path(spec: Spec, trial_number: int) -> Path:
    """Where the model of a finished trial is kept (only the top `keep_checkpoints`)."""
    return study_dir(spec) / "trials" / f"{trial_number:05d}" / "model.keras"


def open_storage(spec: Spec, storage: str | None = None) -> optuna.storages.BaseStorage | str:
    """The storage given on the command line, in the YAML file, or the default journal file."""
    url = storage or spec.study.storage
    if url and "://" in url:
        if url.startswith(("postgresql", "mysql")):
            # heartbeats: a dead worker's trial is failed after the grace period and retried
            from automl.workers import rdb_storage

            return rdb_storage(url)
        return url
    path = Path(url) if url else study_dir(spec) / "journal.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(str(path)))


def make_sampler(spec: Spec, seed_offset: int = 0) -> optuna.samplers.BaseSampler:
    """The spec's sampler, seeded with `study.seed` + `seed_offset` unless its options set one."""
    name = spec.study.sampler.name
    seed = spec.study.seed
    if seed is not None and name != "grid":
        seed += seed_offset
    grid = grid_search_space(spec) if name == "grid" else None
    return samplers.make_sampler(name, spec.study.sampler.options, seed, grid)


def make_pruner(spec: Spec) -> optuna.pruners.BasePruner:
    """The pruner named in the spec."""
    return samplers.make_pruner(spec.study.pruner.name, spec.study.pruner.options)


def open_study(
    spec: Spec, storage: str | None = None, create: bool = True, seed_offset: int = 0
) -> optuna.Study:
    """Create the study or resume it; a search space changed since it began is refused."""
    store = open_storage(spec, storage)
    if create and not isinstance(store, str):
        # a resumed (or parallel) run must not replay the random sequence of the first run
        seed_offset += _existing_trials(store, spec.study.name)
    sampler, pruner = make_sampler(spec, seed_offset), make_pruner(spec)
    if not create:
        try:
            return optuna.load_study(
                study_name=spec.study.name, storage=store, sampler=sampler, pruner=pruner
            )
        except KeyError:
            raise StudyError(
                f"no study named {spec.study.name!r} in the storage yet: run `automl tune` first"
            ) from None
    study = optuna.create_study(
        study_name=spec.study.name,
        storage=store,
        sampler=sampler,
        pruner=pruner,
        direction=spec.study.direction,
        load_if_exists=True,
    )
    old_hash = study.user_attrs.get(SPACE_HASH_ATTR)
    if old_hash is None:
        study.set_user_attr(SPACE_HASH_ATTR, spec.space_hash)
        study.set_user_attr(SPACE_ATTR, spec.space)
        study.set_user_attr("metric", spec.study.metric)
    elif old_hash != spec.space_hash:
        changes = diff_spaces(study.user_attrs.get(SPACE_ATTR, {}), spec.space)
        listing = "\n".join(f"  - {c}" for c in changes[:20]) or "  (details unavailable)"
        raise StudyError(
            f"the search space of study {spec.study.name!r} changed since it began:\n{listing}\n"
            "Finished trials would not be comparable. Give the study a new `study.name`, "
            "or delete its storage to start over."
        )
    return study


def _existing_trials(store: optuna.storages.BaseStorage, name: str) -> int:
    try:
        study_id = store.get_study_id_from_name(name)
    except KeyError:
        return 0
    return len(store.get_all_trials(study_id, deepcopy=False))


def counted_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Trials that count toward the budget: finished ones, except those stopped by Ctrl-C
    and those of dead workers that were retried as new trials."""
    from automl.workers import retried_numbers

    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    return [
        t
        for t in trials
        if t.state in FINISHED and not t.user_attrs.get("interrupted") and t.number not in retried
    ]


@dataclass
class TuneResult:
    """What `tune` returns: the study and the rows of its leaderboard."""

    study: optuna.Study
    spec: Spec
    catalog: Catalog
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False

    @property
    def best_trial(self) -> FrozenTrial | None:
        """The best complete trial, if any."""
        complete = [t for t in self.study.trials if t.state == TrialState.COMPLETE]
        if not complete:
            return None
        return self.study.best_trial


class _Objective:
    """The Optuna objective: sample, run the trial, keep its checkpoint, record why it failed."""

    def __init__(self, spec: Spec, splits: Splits, catalog: Catalog, verbose: int = 0) -> None:
        self.spec, self.splits, self.catalog, self.verbose = spec, splits, catalog, verbose
        self.hook = catalog.hooks  # an exception in a plugin's hook fails the trial, naming it

    def __call__(self, trial: optuna.Trial) -> float:
        from automl.trial import run_trial

        try:
            config = sample_config(trial, self.spec)
            trial.set_user_attr("config", config.to_json())
            self.hook.on_trial_start(trial=trial, config=config)
            result = run_trial(
                config,
                self.spec,
                self.splits,
                self.catalog,
                trial,
                self.hook,
                self.verbose,
                record_history=lambda history: trial.set_user_attr("history", history),
            )
        except optuna.TrialPruned as exc:
            trial.set_user_attr("epochs", _reported_epochs(trial))
            trial.set_user_attr("pruned_reason", str(exc))
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("interrupted", True)
            trial.set_user_attr("fail_reason", "interrupted by the user (Ctrl-C)")
            raise
        except Exception as exc:
            trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
            raise
        trial.set_user_attr("epochs", result.epochs)
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("train_seconds", round(result.duration, 3))
        if _ranks_in_top(trial.study, self.spec, result.score):
            path = checkpoint_path(self.spec, trial.number)
            path.parent.mkdir(parents=True, exist_ok=True)
            result.model.save(path)
        return result.score


def _ranks_in_top(study: optuna.Study, spec: Spec, score: float) -> bool:
    """Whether a new score would enter the top `keep_checkpoints` (else its model is not saved)."""
    top = ranked(study, spec.study.direction)[: spec.study.keep_checkpoints]
    if len(top) < spec.study.keep_checkpoints:
        return True
    worst = top[-1].value
    return score > worst if spec.study.direction == "maximize" else score < worst


def _reported_epochs(trial: optuna.Trial) -> int:
    frozen = trial.study._storage.get_trial(trial._trial_id)
    return len(frozen.intermediate_values)


def prune_checkpoints(study: optuna.Study, spec: Spec) -> None:
    """Keep the checkpoints of the top `keep_checkpoints` trials only (bounded disk use)."""
    keep = {t.number for t in ranked(study, spec.study.direction)[: spec.study.keep_checkpoints]}
    # another worker may be saving the checkpoint of a trial it has not told yet
    keep |= {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    trials_dir = study_dir(spec) / "trials"
    if not trials_dir.exists():
        return
    for child in trials_dir.iterdir():
        if child.name.isdigit() and int(child.name) not in keep:
            shutil.rmtree(child, ignore_errors=True)


def ranked(study: optuna.Study, direction: str) -> list[FrozenTrial]:
    """Complete trials, best first."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    return sorted(complete, key=lambda t: t.value, reverse=direction == "maximize")


def leaderboard(study: optuna.Study, direction: str) -> list[dict[str, Any]]:
    """Rows: complete trials by score, then pruned, then failed (with the reason)."""
    from automl.workers import retried_numbers

    rows: list[dict[str, Any]] = []
    retried = retried_numbers(study.get_trials(deepcopy=False))
    others = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state in (TrialState.PRUNED, TrialState.FAIL)
    ]
    for rank, t in enumerate(
        ranked(study, direction) + sorted(others, key=lambda t: (t.state.name, t.number)), 1
    ):
        duration = (
            (t.datetime_complete - t.datetime_start).total_seconds()
            if t.datetime_complete and t.datetime_start
            else None
        )
        rows.append(
            {
                "rank": rank if t.state == TrialState.COMPLETE else None,
                "trial": t.number,
                "score": t.value,
                "state": t.state.name.lower(),
                "epochs": t.user_attrs.get("epochs", len(t.intermediate_values) or None),
                "duration": round(duration, 2) if duration is not None else None,
                "params": dict(t.params),
                "reason": _retried_reason(
                    t.user_attrs.get("fail_reason") or t.user_attrs.get("pruned_reason"),
                    retried.get(t.number),
                ),
            }
        )
    return rows


def _retried_reason(reason: str | None, retry: int | None) -> str | None:
    """A dead worker's trial says so, and which trial ran it again."""
    if retry is None:
        return reason
    return f"{reason or 'its worker died (no heartbeat)'}; retried as trial {retry}"


def format_leaderboard(rows: list[dict[str, Any]], metric: str, top: int | None = None) -> str:
    """A plain-text table of the leaderboard."""
    if top is not None:
        rows = rows[:top]
    if not rows:
        return "(no finished trials yet)"
    header = ["rank", "trial", metric, "state", "epochs", "time", "parameters"]
    table = [header]
    for r in rows:
        params = " ".join(f"{k}={_short(v)}" for k, v in r["params"].items())
        if r["state"] == "fail" and r.get("reason"):
            params = f"{params}  [{r['reason'][:120]}]".strip()
        table.append(
            [
                str(r["rank"] or "-"),
                str(r["trial"]),
                f"{r['score']:.4f}" if r["score"] is not None else "-",
                r["state"],
                str(r["epochs"] or "-"),
                f"{r['duration']:.1f}s" if r["duration"] is not None else "-",
                params,
            ]
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False)) + "  " + row[-1]
        for row in table
    ]
    return "\n".join(line.rstrip() for line in lines)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class _Progress:
    """A tqdm bar over trials: done/pruned/failed, best so far, elapsed and remaining."""

    def __init__(self, total: int, initial: int, study: optuna.Study, enabled: bool) -> None:
        self.study = study
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total, initial=min(initial, total), unit="trial", dynamic_ncols=True
            )
            self.refresh()

    def refresh(self) -> None:
        if self.bar is None:
            return
        counts = {s: 0 for s in FINISHED}
        for t in self.study.get_trials(deepcopy=False, states=FINISHED):
            counts[t.state] += 1
        best = None
        with contextlib.suppress(ValueError):
            best = self.study.best_value
        self.bar.set_postfix(
            done=counts[TrialState.COMPLETE],
            pruned=counts[TrialState.PRUNED],
            failed=counts[TrialState.FAIL],
            best=f"{best:.4f}" if best is not None else "-",
        )

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def write(self, message: str) -> None:
        """Print a line without breaking the bar."""
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(message, file=sys.stderr)


def tune(
    space: str | Path | Spec,
    trials: int | None = None,
    timeout: float | None = None,
    storage: str | None = None,
    plugins: tuple[str, ...] = (),
    progress: bool = True,
    verbose: int = 0,
    print_leaderboard: bool = False,
    jobs: int = 1,
    catalog: Catalog | None = None,
) -> TuneResult:
    """Tune a search space; running it again resumes the same study until the budget is spent.

    Args:
        space: a YAML path or a loaded `Spec`.
        trials: total trial budget (finished trials count). Defaults to `study.trials`.
        timeout: seconds for this run. Defaults to `study.timeout`.
        storage: an Optuna storage URL or journal path. Defaults to `runs/<study>/journal.log`.
        plugins: local plugin modules or .py files.
        progress: show a progress bar.
        verbose: Keras fit verbosity.
        print_leaderboard: print the leaderboard when done (also after Ctrl-C).
        jobs: worker processes sharing the study (each with its share of the CPU threads).
            Defaults to `1`: trials run in this process (unless `study.recycle_after` is set).
    """
    if isinstance(space, Spec):
        spec = space
        catalog = catalog if catalog is not None else load_catalog(spec.plugins)
    else:
        spec, catalog = open_space(space, plugins)
    # failed trials are reported in one line each (and in the leaderboard), not as tracebacks
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    budget = trials if trials is not None else spec.study.trials
    run_timeout = timeout if timeout is not None else spec.study.timeout

    if jobs != 1 or spec.study.recycle_after:
        from automl.workers import supervise

        started = time.monotonic()
        result = supervise(spec, catalog, budget, run_timeout, storage, jobs, progress, verbose)
        return _finish(result, budget, started, print_leaderboard)
    study = open_study(spec, storage)
    splits = load_splits(spec, catalog)
    hook = catalog.hooks  # a plugin's failing on_trial_end/on_study_* hook warns, naming it
    done = len(counted_trials(study))
    remaining = max(0, budget - done)
    result = TuneResult(study, spec, catalog)
    bar = _Progress(budget, done, study, progress and remaining > 0)

    def after_trial(study: optuna.Study, trial: FrozenTrial) -> None:
        prune_checkpoints(study, spec)
        if trial.state == TrialState.FAIL and not trial.user_attrs.get("interrupted"):
            bar.write(f"trial {trial.number} failed: {trial.user_attrs.get('fail_reason', '?')}")
        hook.on_trial_end(trial=trial)

    hook.on_study_start(study=study, spec=spec)
    started = time.monotonic()
    try:
        if remaining > 0:
            # ask/tell under a study-wide lock: the budget stays exact with other workers
            from automl.workers import IsolatedObjective, handle_signals, run_trials

            objective: Any = (
                IsolatedObjective(spec, storage, verbose)
                if spec.study.isolation == "process"
                else _Objective(spec, splits, catalog, verbose)
            )
            with handle_signals():
                outcome = run_trials(
                    study,
                    spec,
                    objective,
                    budget,
                    timeout=run_timeout,
                    callbacks=[after_trial, bar],
                    storage=storage,
                )
            result.interrupted = outcome.interrupted
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        bar.close()
        hook.on_study_end(study=study)
    return _finish(result, budget, started, print_leaderboard)


def _finish(result: TuneResult, budget: int, started: float, print_leaderboard: bool) -> TuneResult:
    """Fill in the leaderboard and print it (with the trial count and the time of this run)."""
    study, spec = result.study, result.spec
    result.leaderboard = leaderboard(study, spec.study.direction)
    if print_leaderboard:
        elapsed = time.monotonic() - started
        note = " (interrupted: run the same command again to resume)" if result.interrupted else ""
        print(
            f"\nStudy {spec.study.name!r}: {len(counted_trials(study))}/{budget} trials, "
            f"{elapsed:.0f}s this run{note}"
        )
        print(format_leaderboard(result.leaderboard, spec.study.metric))
    return result


def trials_json(rows: list[dict[str, Any]]) -> str:
    """The leaderboard as JSON, for `automl trials --json`."""
    return json.dumps(rows, indent=2, default=str)
