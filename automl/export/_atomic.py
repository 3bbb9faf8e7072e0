"""Write a directory all at once: filled under a temporary sibling name, then renamed into place.

A reader never sees a half-written artifact, a failed export leaves nothing behind, and a replaced
directory (`--force`) is deleted only once its successor is in place. The directory gets the mode
of any new directory (0777 less the umask, usually 0755), not `mkdtemp`'s private 0700, so that
other users (a serving account, a container) can read the model.
"""

from __future__ import annotations

import contextlib
import os
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
    tmp.chmod(0o777 & ~current_umask())
    try:
        yield tmp
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def current_umask() -> int:
    """The process umask (reading it means setting it: set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
