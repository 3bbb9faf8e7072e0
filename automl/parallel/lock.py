"""The study-wide lock that makes the budget exact across workers, on one machine or many.

A file lock next to the journal file (or the SQLite file), a PostgreSQL advisory lock, or MySQL's
`GET_LOCK`; a storage with none of these (in memory, one process) needs no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import optuna

from automl.spec import Spec
from automl.storage import journal_path, study_dir

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

LOCK_SUFFIX = ".automl-lock"  # not `<journal>.lock`: Optuna's own journal lock uses that name


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive `flock` on `path` (created if missing), held inside the `with` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _unwrap(storage: optuna.storages.BaseStorage) -> optuna.storages.BaseStorage:
    # optuna wraps an RDBStorage in a private `_CachedStorage`
    if type(storage).__name__ == "_CachedStorage":
        return storage._backend  # type: ignore[attr-defined]
    return storage


@contextlib.contextmanager
def _database_lock(engine: Engine, key: str) -> Iterator[None]:
    """PostgreSQL's advisory lock or MySQL's GET_LOCK named `key`, on one connection."""
    from sqlalchemy import text

    take, release = {
        "postgresql": ("pg_advisory_lock(hashtext(:k))", "pg_advisory_unlock(hashtext(:k))"),
        "mysql": ("GET_LOCK(:k, -1)", "RELEASE_LOCK(:k)"),
    }[engine.dialect.name]
    with engine.connect() as conn:
        conn.execute(text(f"SELECT {take}"), {"k": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text(f"SELECT {release}"), {"k": key})
            conn.commit()


def lock_path(study: optuna.Study, spec: Spec, storage: str | None = None) -> Path | None:
    """The lock file of a journal or SQLite storage; `None` for other storages."""
    backend = _unwrap(study._storage)
    url = storage or spec.study.storage
    if isinstance(backend, optuna.storages.JournalStorage):
        path = journal_path(spec, storage) or study_dir(spec) / "journal.log"
        return path.with_name(path.name + LOCK_SUFFIX)
    if isinstance(backend, optuna.storages.RDBStorage) and url and url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :] + LOCK_SUFFIX)
    return None


@contextlib.contextmanager
def budget_lock(study: optuna.Study, spec: Spec, storage: str | None = None) -> Iterator[None]:
    """A lock held by one worker of `study` at a time, on one machine or many.

    Args:
        study: the shared study.
        spec: its search space (the study name and `study.storage`).
        storage: the storage URL or journal path given instead of `study.storage`.
    """
    backend = _unwrap(study._storage)
    if isinstance(backend, optuna.storages.RDBStorage) and backend.engine.dialect.name in (
        "postgresql",
        "mysql",
    ):
        with _database_lock(backend.engine, f"automl:{study.study_name}"):
            yield
        return
    path = lock_path(study, spec, storage)
    if path is None:
        yield
        return
    with file_lock(path):
        yield
