"""Where a study lives and how it is opened: run directories, storages, sampler, pruner.

The default storage is an Optuna journal file, `runs/<study>/journal.log`: safe for several
processes at once and readable by `optuna-dashboard runs/<study>/journal.log`. Any Optuna storage
URL is accepted instead; PostgreSQL and MySQL storages get Optuna's heartbeats, so that the trial of
a worker that died is failed after the grace period and retried as a new trial.

Samplers and pruners come from the one table of short names in `automl.samplers`.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import os
import re
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.storages.journal import JournalStorage
from optuna.trial import FrozenTrial

from automl import samplers
from automl.diagnose import is_database_error, os_error_message
from automl.errors import AutoMLError, StorageError, StudyError
from automl.journal import SafeJournalFileBackend
from automl.spec import Spec, diff_spaces, grid_search_space

RUNS_DIR_ENV = "AUTOML_RUNS_DIR"
HEARTBEAT_ENV = "AUTOML_HEARTBEAT_INTERVAL"
GRACE_ENV = "AUTOML_GRACE_PERIOD"
SPACE_HASH_ATTR = "space_hash"
SPACE_ATTR = "space"
MAX_RETRY = 3  # a dead worker's trial is run again at most this many times


# ---------------------------------------------------------------------------------- places
def runs_dir() -> Path:
    """Where studies keep their files: `$AUTOML_RUNS_DIR`, else `./runs`."""
    return Path(os.environ.get(RUNS_DIR_ENV, "runs"))


def study_dir(spec: Spec) -> Path:
    """`runs/<study name>/`: the journal file and the trial checkpoints."""
    return runs_dir() / spec.study.name


def inside_study_dir(spec: Spec, path: Path) -> bool:
    """Whether `path` is really inside the study's own folder (no symlink leads out of it), so
    that deleting it cannot touch anything else."""
    root = study_dir(spec).resolve()
    return not path.is_symlink() and path.resolve().is_relative_to(root) and path.resolve() != root


def make_folder(folder: Path, what: str) -> Path:
    """Create `folder` (and its parents) or say clearly why it cannot be: a `StorageError`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = os.environ.get(RUNS_DIR_ENV)
        hint = f" (${RUNS_DIR_ENV}={where})" if where else ""
        if exc.filename is None:
            exc.filename = str(folder)
        raise StorageError(f"{os_error_message(exc, f'create {what}')}{hint}") from None
    return folder


def display_url(url: str) -> str:
    """A storage URL with its password hidden (for messages)."""
    return re.sub(r"(://[^:/@]+:)[^/]*@", r"\1***@", url)


def trial_dir(spec: Spec, trial_number: int) -> Path:
    """`runs/<study>/trials/<n>/`: a finished trial's fold models and out-of-fold predictions,
    kept for the top `keep_checkpoints` trials only."""
    return study_dir(spec) / "trials" / f"{trial_number:05d}"


def checkpoint_path(spec: Spec, trial_number: int, fold: int = 0) -> Path:
    """The model a trial trained on fold `fold` (a hold-out study has fold 0 only)."""
    return trial_dir(spec, trial_number) / f"fold-{fold}.keras"


def oof_path(spec: Spec, trial_number: int) -> Path:
    """The trial's out-of-fold predictions, one row per development row (`Partition.x`): class
    probabilities (n, k) or values (n,); NaN for rows no fold validated (a hold-out's train)."""
    return trial_dir(spec, trial_number) / "oof.npy"


def journal_path(spec: Spec, storage: str | None = None) -> Path | None:
    """The journal file of the study (`storage`, `study.storage` or the default one), or `None`
    when the study is kept in a database (a URL)."""
    url = storage or spec.study.storage
    if url and "://" in url:
        return None
    return Path(url) if url else study_dir(spec) / "journal.log"


# -------------------------------------------------------------------------------- storages
def heartbeat_settings() -> tuple[int, int]:
    """(heartbeat interval, grace period) in seconds: `$AUTOML_HEARTBEAT_INTERVAL` (10) and
    `$AUTOML_GRACE_PERIOD` (30). A trial without a heartbeat for the grace period is failed."""
    interval, grace = (_seconds(HEARTBEAT_ENV, 10), _seconds(GRACE_ENV, 30))
    if grace <= interval:
        raise AutoMLError(
            f"`heartbeat interval < grace period` must hold, but got "
            f"({HEARTBEAT_ENV}={interval}, {GRACE_ENV}={grace})"
        )
    return interval, grace


def _seconds(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise AutoMLError(
            f"${name} must be a whole number of seconds. Received: {name}={raw!r}"
        ) from None
    if value < 1:
        raise AutoMLError(f"${name} must be >= 1. Received: {name}={raw!r}")
    return value


def database_url(url: str) -> str:
    """`postgresql://` with the driver that is installed: SQLAlchemy 2.1 defaults to psycopg 3,
    the `postgres` extra installs psycopg2."""
    missing = importlib.util.find_spec("psycopg") is None
    if url.startswith("postgresql://") and missing and importlib.util.find_spec("psycopg2"):
        return "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def retry_callback() -> Callable[[optuna.Study, FrozenTrial], None]:
    """Re-enqueue the trial of a dead worker (at most `MAX_RETRY` times)."""
    # Optuna 4.9 renamed RetryFailedTrialCallback (same behaviour and system attributes)
    cls = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if cls is None:
        cls = optuna.storages.RetryFailedTrialCallback
    return cls(max_retry=MAX_RETRY)


def retried_numbers(trials: Sequence[FrozenTrial]) -> dict[int, int]:
    """{failed trial number: number of the trial that retried it} (from `retry_callback`)."""
    out: dict[int, int] = {}
    for t in trials:
        for number in t.system_attrs.get("retry_history", ()):
            out.setdefault(number, t.number)
    return out


def rdb_storage(url: str) -> optuna.storages.RDBStorage:
    """An RDB storage with heartbeats: a dead worker's trial is failed after the grace period
    and retried as a new trial."""
    from sqlalchemy.exc import SQLAlchemyError

    interval, grace = heartbeat_settings()
    accepted = inspect.signature(optuna.storages.RDBStorage).parameters
    name = (
        "heartbeat_stale_trial_callback"  # Optuna >= 5 (failed_trial_callback is deprecated)
        if "heartbeat_stale_trial_callback" in accepted
        else "failed_trial_callback"
    )
    on_stale: dict[str, Any] = {name: retry_callback()}
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(
                database_url(url),
                engine_kwargs={"pool_pre_ping": True},
                heartbeat_interval=interval,
                grace_period=grace,
                **on_stale,
            )
        except SQLAlchemyError as exc:
            # workers starting at once on a fresh database race to create its tables; a server
            # that cannot be reached (OperationalError) will not answer on a retry either
            if attempt == 4 or _unreachable(exc):
                raise
            time.sleep(0.5 + attempt)
    raise AssertionError("unreachable")


def _unreachable(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(
        words in text
        for words in ("could not connect", "connection refused", "could not translate host")
    )


def open_storage(spec: Spec, storage: str | None = None) -> optuna.storages.BaseStorage:
    """The storage given on the command line, in the YAML file, or the default journal file."""
    path = journal_path(spec, storage)
    if path is not None:
        if path.is_dir():
            raise StorageError(
                f"{path}: expected a journal file for the study's storage, got a folder"
            )
        make_folder(path.parent, "the study's folder")
        return JournalStorage(SafeJournalFileBackend(str(path)))
    url = str(storage or spec.study.storage)
    _check_sqlite_folder(url)
    try:
        if url.startswith(("postgresql", "mysql")):
            return rdb_storage(url)
        return optuna.storages.get_storage(url)
    except Exception as exc:  # SQLAlchemy's errors: a bad URL, a server that does not answer
        raise StorageError(_database_message(url, exc)) from None


def _check_sqlite_folder(url: str) -> None:
    """`sqlite:///dir/x.db` where `dir` is missing: say so (SQLite says "unable to open")."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return
    folder = Path(url[len("sqlite:///") :]).parent
    if not folder.is_dir():
        raise StorageError(
            f"cannot open the storage {url}: its folder {folder} does not exist "
            "(create it, or give another path)"
        )


def _database_message(url: str, exc: BaseException) -> str:
    """`cannot open the storage postgresql://u:***@host/db: <the driver's first line>`."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return (
        f"cannot open the storage {display_url(url)}: {lines[0]}. Expected a reachable "
        "Optuna storage URL (sqlite:///file.db, postgresql://user:pass@host/db) or a journal "
        "file path"
    )


# ------------------------------------------------------------------------- sampler, pruner
def make_sampler(spec: Spec, seed_offset: int = 0) -> optuna.samplers.BaseSampler:
    """The sampler named in the spec, seeded with `study.seed` (plus `seed_offset`, except for
    the grid, whose seed only orders the grid) unless its options set a seed."""
    name, seed = spec.study.sampler.name, spec.study.seed
    if seed is not None and name != "grid":
        seed += seed_offset
    grid = grid_search_space(spec) if name == "grid" else None
    return samplers.make_sampler(name, spec.study.sampler.options, seed, grid)


def make_pruner(spec: Spec) -> optuna.pruners.BasePruner:
    """The pruner named in the spec (`median` waits 2 epochs, `patient` wraps `median`); none
    for a multi-objective study, which Optuna cannot prune (`Trial.report` refuses it)."""
    if spec.study.multi_objective:
        return optuna.pruners.NopPruner()
    return samplers.make_pruner(spec.study.pruner.name, spec.study.pruner.options)


# ------------------------------------------------------------------------------ open_study
def _naming_the_storage(func: Callable[..., optuna.Study]) -> Callable[..., optuna.Study]:
    """A database error while the study is opened becomes a `StorageError` naming the URL."""

    @functools.wraps(func)
    def wrapper(spec: Spec, storage: str | None = None, *args: Any, **kwargs: Any) -> optuna.Study:
        try:
            return func(spec, storage, *args, **kwargs)
        except Exception as exc:
            if isinstance(exc, AutoMLError) or not is_database_error(exc):
                raise
            url = str(storage or spec.study.storage)
            raise StorageError(_database_message(url, exc)) from None

    return wrapper


@_naming_the_storage
def open_study(
    spec: Spec, storage: str | None = None, create: bool = True, seed_offset: int = 0
) -> optuna.Study:
    """Create the study or resume it; a search space changed since it began is refused.

    Args:
        spec: the search space.
        storage: an Optuna storage URL or journal path. Defaults to `study.storage`, else the
            journal file `runs/<study>/journal.log`.
        create: create the study when it does not exist. Defaults to `True`; with `False` a
            missing study is a `StudyError`.
        seed_offset: added to the sampler's seed (so that workers sample differently).
            Defaults to `0`.
    """
    store = open_storage(spec, storage)
    if create:
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
        directions=list(spec.study.directions),
        load_if_exists=True,
    )
    _check_space(study, spec)
    if study.metric_names != list(spec.study.metrics):
        with warnings.catch_warnings():  # experimental since Optuna 3.2, unchanged since
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(list(spec.study.metrics))  # optuna-dashboard shows them
    return study


def _check_space(study: optuna.Study, spec: Spec) -> None:
    """Record the search space of a new study; refuse a changed one (trials would not compare)."""
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


def _existing_trials(store: optuna.storages.BaseStorage, name: str) -> int:
    try:
        study_id = store.get_study_id_from_name(name)
    except KeyError:
        return 0
    return len(store.get_all_trials(study_id, deepcopy=False))


__all__ = [
    "checkpoint_path",
    "database_url",
    "heartbeat_settings",
    "inside_study_dir",
    "journal_path",
    "make_pruner",
    "make_sampler",
    "oof_path",
    "open_storage",
    "open_study",
    "rdb_storage",
    "retried_numbers",
    "retry_callback",
    "runs_dir",
    "study_dir",
    "trial_dir",
]
