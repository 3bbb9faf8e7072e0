"""Write a directory all at once: filled under a temporary sibling name, then renamed into place.

A reader never sees a half-written artifact, a failed export leaves nothing behind, and a replaced
directory (`--force`) is deleted only once its successor is in place.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_directory(out: Path) -> Iterator[Path]:
    """Yield an empty temporary directory beside `out`; on success it becomes `out`.

    On any exception (KeyboardInterrupt included) the temporary directory is removed and `out` is
    left as it was.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _move_into_place(tmp: Path, out: Path) -> None:
    """Rename `tmp` to `out`; a replaced `out` (--force) is set aside first and deleted last."""
    old = None
    if out.exists() or out.is_symlink():
        old = out.with_name(f".{out.name}.replaced.{tmp.name}")
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
