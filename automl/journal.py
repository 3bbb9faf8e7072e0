"""A crash-safe journal file: a torn record never makes a study unreadable, and never glues two.

Optuna's journal file is one JSON record per line, appended under a lock. A process killed in
the middle of a write, or a write that fails half-way (a full disk), leaves a torn record: bytes
without their newline. Optuna's own reader then stops at the next record glued to it, and every
trial after it is unreachable. `SafeJournalFileBackend` is Optuna's `JournalFileBackend` with
three changes:

- **Writing:** each append is one `os.write` of whole records, under the journal's lock. If the
  write fails, the file is truncated back to where it was (the lock is held: nobody else wrote)
  and the error names the file. Before appending, a torn tail left by a killed writer is moved
  aside, so a new record never starts in the middle of an old one.
- **Opening:** under the lock, a torn tail is moved to the side file `<journal>.torn` and cut
  off; a bad line in the middle (a journal written by older versions) is copied there too.
- **Reading:** a line that is not a complete record is skipped (a glued line yields the complete
  record at its end), and records are numbered by complete records only, so every process agrees.

Nothing here changes the file format: the file stays readable by `optuna-dashboard`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import warnings
from collections.abc import Generator
from pathlib import Path
from typing import Any

from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._file import get_lock_file

from automl.diagnose import os_error_message
from automl.errors import StorageError

SIDE_SUFFIX = ".torn"
RECORD_START = b'{"op_code":'  # every record Optuna writes starts so (json.dumps, op_code first)
READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)
BAD_LINE = "a bad line, skipped"


def parse_line(line: bytes) -> tuple[dict[str, Any] | None, bool]:
    """(the record of one line or None, whether the line is exactly one whole record).

    A line without its newline is no record (torn, or being written). A line where a torn record
    was glued to the next one yields that next, complete record, and is not whole.
    """
    if not line.endswith(b"\n"):
        return None, False
    start = 0
    while start >= 0:
        try:
            record = json.loads(line[start:])
        except (json.JSONDecodeError, UnicodeDecodeError):
            record = None
        if isinstance(record, dict) and "op_code" in record:
            return record, start == 0
        start = line.find(RECORD_START, start + 1)
    return None, False


class SafeJournalFileBackend(JournalFileBackend):
    """Optuna's journal file backend, crash-safe (see the module's docstring).

    Args:
        file_path: the journal file; created when missing.
    """

    def __init__(self, file_path: str) -> None:
        try:
            super().__init__(file_path)
        except OSError as exc:
            raise StorageError(_storage_message(exc, file_path, "open the journal file")) from None
        _check_is_a_journal(file_path)
        try:
            with get_lock_file(self._lock):
                self._repair()
        except OSError as exc:
            if exc.errno not in READ_ONLY:
                message = _storage_message(exc, file_path, "repair the journal file")
                raise StorageError(message) from None
            # a read-only study: reading skips torn lines anyway; a write says why it cannot
        # record number -> byte offset where the search for it starts (complete records only)
        self._log_number_offset = {0: 0}
        self._noted: set[int] | None = None  # offsets of bad lines already kept aside

    @property
    def side_path(self) -> Path:
        """Where torn bytes are kept: `<journal>.torn`."""
        return Path(self._file_path + SIDE_SUFFIX)

    # ------------------------------------------------------------------------------ reading
    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        """The complete records from number `log_number_from` on (torn lines skipped)."""
        known = max(n for n in self._log_number_offset if n <= log_number_from)
        with open(self._file_path, "rb") as handle:
            handle.seek(self._log_number_offset[known])
            number, offset = known, self._log_number_offset[known]
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a record being written (or torn): not one yet
                record, whole = parse_line(line)
                if not whole:
                    self._note_bad_line(offset, line)
                offset += len(line)
                if record is None:
                    continue
                number += 1
                self._log_number_offset.setdefault(number, offset)
                if number > log_number_from:
                    yield record

    # ------------------------------------------------------------------------------ writing
    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append whole records in one write; a failed write leaves the file as it was."""
        data = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode()
        try:
            with get_lock_file(self._lock):
                self._append(data)
        except OSError as exc:
            raise StorageError(
                _storage_message(exc, self._file_path, "write to the journal file")
                + ". The record was not written and the file is as it was before it"
            ) from None

    def _append(self, data: bytes) -> None:
        """One write at the end of the file (lock held); on failure, cut back to the old end."""
        fd = os.open(self._file_path, os.O_RDWR | os.O_APPEND)
        try:
            self._set_aside_torn_tail(fd)
            size = os.fstat(fd).st_size
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError:
                _truncate_quietly(fd, size)
                raise
        finally:
            os.close(fd)

    # ------------------------------------------------------------------------------ repairs
    def _repair(self) -> None:
        """Under the lock: move a torn tail (a killed or failed write) aside and cut it off."""
        fd = os.open(self._file_path, os.O_RDWR)
        try:
            self._set_aside_torn_tail(fd)
        finally:
            os.close(fd)

    def _note_bad_line(self, offset: int, line: bytes) -> None:
        """Copy a bad line in the middle of the file (older versions glued records) aside, once."""
        if self._noted is None:
            self._noted = self._recorded_offsets()
        if offset in self._noted:
            return
        self._noted.add(offset)
        with contextlib.suppress(OSError):  # a read-only folder: the line is skipped all the same
            self._keep_aside(offset, line, BAD_LINE)

    def _set_aside_torn_tail(self, fd: int) -> None:
        """Move bytes after the last newline to the side file and cut them off (lock held)."""
        size = os.fstat(fd).st_size
        if size == 0:
            return
        tail_start = _last_line_start(fd, size)
        if tail_start == size:
            return
        tail = os.pread(fd, size - tail_start, tail_start)
        self._keep_aside(tail_start, tail, "a torn record, removed")
        os.ftruncate(fd, tail_start)

    def _keep_aside(self, offset: int, data: bytes, what: str) -> None:
        header = (
            f"# automl: {what} from {self._file_path} at byte {offset} ({len(data)} bytes)\n"
        ).encode()
        with open(self.side_path, "ab") as side:
            side.write(header + data + (b"" if data.endswith(b"\n") else b"\n"))
        warnings.warn(
            f"{self._file_path}: {what} ({len(data)} bytes at byte {offset}, from a full disk "
            f"or a process killed while writing); its bytes are kept in {self.side_path}. "
            "Every complete record was read: no finished trial is lost.",
            stacklevel=2,
        )

    def _recorded_offsets(self) -> set[int]:
        """Offsets already kept aside (so reopening does not copy a bad line twice)."""
        if not self.side_path.exists():
            return set()
        found = set()
        prefix = f"# automl: {BAD_LINE} from {self._file_path} at byte ".encode()
        with open(self.side_path, "rb") as side:
            for line in side:
                if line.startswith(prefix):
                    found.add(int(line[len(prefix) :].split(b" ", 1)[0]))
        return found


def _check_is_a_journal(path: str) -> None:
    """Refuse a file whose first line is not a journal record (a mistyped --storage), before
    anything is written to it or beside it."""
    with open(path, "rb") as handle:
        first = handle.readline(1_000_000)
    if first.endswith(b"\n") and parse_line(first)[0] is None:
        raise StorageError(
            f"{path}: expected an Optuna journal file (one JSON record per line), but its first "
            f"line is not a journal record: {first[:60]!r}. Check --storage or study.storage"
        )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written == 0:
            raise OSError(errno.EIO, "the write made no progress")
        view = view[written:]


def _truncate_quietly(fd: int, size: int) -> None:
    with contextlib.suppress(OSError):  # else the next writer moves the torn tail aside
        os.ftruncate(fd, size)


def _last_line_start(fd: int, size: int) -> int:
    """The offset just after the last newline (`size` when the file ends with one)."""
    position, block = size, 65536
    while position > 0:
        start = max(0, position - block)
        chunk = os.pread(fd, position - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0


def _storage_message(exc: OSError, path: str, doing: str) -> str:
    if exc.filename is None:
        exc.filename = path
    return os_error_message(exc, doing)


__all__ = ["SIDE_SUFFIX", "SafeJournalFileBackend", "parse_line"]
