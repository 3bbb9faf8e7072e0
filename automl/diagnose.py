"""One error path for the command line: any exception -> one paragraph and an exit status.

An `AutoMLError` carries its own message and exit status. What the environment raises is
translated here, so that it too names the place: an `OSError` names the file or folder and says
what went wrong in words (a full disk, a read-only folder), a database error names the storage.
Anything else is a bug: one line that says so and how to see the traceback (`--debug`, or
`AUTOML_DEBUG=1`). The exit statuses are the table `automl.errors.EXIT_CODES`.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from automl.console import one_line_warning
from automl.errors import (
    INTERNAL_ERROR_EXIT,
    INTERRUPTED_EXIT,
    AutoMLError,
    SpecError,
    StorageError,
)

DEBUG_ENV = "AUTOML_DEBUG"

# what an errno means for someone who ran `automl`, and what to do about it
_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space and run the same command again",
    errno.EDQUOT: "the disk quota is used up: free some space and run the same command again",
    errno.EROFS: "the file system is read-only: choose a writable place "
    "(--storage, AUTOML_RUNS_DIR, --out)",
    errno.EACCES: "permission denied: choose a place you may write to "
    "(--storage, AUTOML_RUNS_DIR, --out) or fix the permissions",
    errno.EPERM: "operation not permitted: fix the permissions or choose another place",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of this path is a file, where a folder was expected",
    errno.EISDIR: "this is a folder, where a file was expected",
    errno.EEXIST: "it exists already",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EFBIG: "the file is too large (a file size limit was reached)",
}


def debug_enabled(flag: bool = False) -> bool:
    """`--debug` was given, or `AUTOML_DEBUG` is set to anything but '', '0' or 'false'."""
    return flag or os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def os_error_message(exc: OSError, doing: str = "") -> str:
    """`runs/x/journal.log: the disk is full: ...` (`doing` says what automl was doing)."""
    places = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    where = " -> ".join(places)
    what = _OS_HINTS.get(exc.errno or -1) or exc.strerror or str(exc) or type(exc).__name__
    head = f"cannot {doing} {where}".strip() if doing else where
    code = f" ({errno.errorcode.get(exc.errno, exc.errno)})" if exc.errno else ""
    return f"{head}: {what}{code}" if head else f"{what}{code}"


def is_database_error(exc: BaseException) -> bool:
    """An error of SQLAlchemy or a database driver (a storage URL that does not work)."""
    return type(exc).__module__.split(".")[0] in ("sqlalchemy", "psycopg2", "psycopg", "pymysql")


def describe(exc: BaseException) -> tuple[str, int]:
    """The one-paragraph message and the exit status for `exc`."""
    if isinstance(exc, AutoMLError):
        return str(exc), exc.exit_code
    if isinstance(exc, OSError):
        return os_error_message(exc), StorageError.exit_code
    if is_database_error(exc):
        cause = getattr(exc, "orig", None) or exc
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        return f"the database storage failed: {first}", StorageError.exit_code
    if isinstance(exc, MemoryError):
        return (
            "out of memory: lower data.limit or training.batch_size, or use smaller models",
            INTERNAL_ERROR_EXIT,
        )
    text = str(exc).strip().splitlines()
    return (
        f"internal error: {type(exc).__name__}: {text[0] if text else ''}. This is a bug in "
        f"automl or a plugin: run again with --debug (or {DEBUG_ENV}=1) for the traceback "
        "and report it",
        INTERNAL_ERROR_EXIT,
    )


def run_reported(action: Callable[[], int], debug: bool = False, as_json: bool = False) -> int:
    """Run a command; any exception becomes `error: <one paragraph>` on stderr and its exit
    status (the traceback first with `debug` or `AUTOML_DEBUG=1`; with `as_json` also a JSON
    object on stdout), Ctrl-C exit status 130, and each warning one `warning: ...` line."""
    formatted, warnings.formatwarning = warnings.formatwarning, one_line_warning
    try:
        return action()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT
    except Exception as exc:
        if debug_enabled(debug):
            traceback.print_exc()
        message, status = describe(exc)
        print(f"error: {message}", file=sys.stderr)
        if as_json:
            print(json.dumps({"error": _json_error(exc, message, status)}, indent=2))
        return status
    finally:
        warnings.formatwarning = formatted


def _json_error(exc: BaseException, message: str, status: int) -> dict[str, Any]:
    """The error of a `--json` command: its type, message, exit status and (spec) problems."""
    error: dict[str, Any] = {"type": type(exc).__name__, "message": message, "exit_code": status}
    if isinstance(exc, SpecError):
        error["problems"] = [
            {"path": p.path, "line": p.line, "message": p.message} for p in exc.problems
        ]
    return error


__all__ = [
    "DEBUG_ENV",
    "debug_enabled",
    "describe",
    "is_database_error",
    "os_error_message",
    "run_reported",
]
