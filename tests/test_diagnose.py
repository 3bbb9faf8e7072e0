"""The command line's one error path: exception -> one paragraph and an exit status;
`--debug` / `AUTOML_DEBUG=1` add the traceback."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from automl.cli import main
from automl.diagnose import describe, os_error_message
from automl.errors import INTERNAL_ERROR_EXIT, DataError, StorageError

# a data source whose load() returns nothing: a plugin bug that automl did not foresee
BUGGY = """
from automl import hookimpl
from automl.components import BaseDataSource


class Buggy(BaseDataSource):
    name = "buggy"
    help = "Returns None instead of a Dataset."

    def load(self, **params):
        return None


@hookimpl
def register_data_sources(register):
    register(Buggy())
"""
SPACE = """
data: {source: buggy, task: binary}
plugins: [buggy.py]
model: {mlp: {}}
"""


def test_os_errors_name_the_file_and_say_what_went_wrong() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "runs/x/journal.log")
    assert os_error_message(full, "write to") == (
        "cannot write to runs/x/journal.log: the disk is full: free some space and run the same "
        "command again (ENOSPC)"
    )
    moved = OSError(errno.EACCES, "Permission denied", "a", None, "b")
    assert os_error_message(moved).startswith("a -> b: permission denied")
    assert describe(full) == (os_error_message(full), StorageError.exit_code)


def test_automl_errors_keep_their_message_and_status() -> None:
    assert describe(DataError("data.csv: no rows")) == ("data.csv: no rows", 5)


def test_an_unexpected_exception_is_one_line_that_says_how_to_see_more() -> None:
    message, status = describe(ZeroDivisionError("division by zero"))
    assert status == INTERNAL_ERROR_EXIT
    assert message == (
        "internal error: ZeroDivisionError: division by zero. This is a bug in automl or a "
        "plugin: run again with --debug (or AUTOML_DEBUG=1) for the traceback and report it"
    )


@pytest.mark.parametrize(
    ("argv", "env", "traceback"),
    [
        (["validate", "space.yaml"], {}, False),
        (["--debug", "validate", "space.yaml"], {}, True),
        (["validate", "space.yaml", "--debug"], {}, True),
        (["validate", "space.yaml"], {"AUTOML_DEBUG": "1"}, True),
        (["validate", "space.yaml"], {"AUTOML_DEBUG": "0"}, False),
    ],
)
def test_debug_shows_the_traceback_of_an_internal_error(
    argv: list[str],
    env: dict[str, str],
    traceback: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "buggy.py").write_text(BUGGY)
    (tmp_path / "space.yaml").write_text(SPACE)
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == INTERNAL_ERROR_EXIT
    err = capsys.readouterr().err
    assert ("Traceback (most recent call last)" in err) is traceback
    assert err.splitlines()[-1].startswith(
        "error: internal error: AttributeError: 'NoneType' object has no attribute"
    )


@pytest.mark.slow  # a CLI process (TensorFlow start-up)
def test_the_console_script_prints_one_paragraph(tmp_path: Path) -> None:
    """The real `automl` process: a data error is one line on stderr, exit status 5."""
    (tmp_path / "space.yaml").write_text(
        "data: {source: {csv: {path: data.csv}}}\nmodel: {mlp: {}}\n"
    )
    (tmp_path / "data.csv").write_bytes(b"a,b,label\n1,2,yes\n3,caf\xe9,no\n")
    proc = subprocess.run(
        [sys.executable, "-m", "automl.cli", "validate", "space.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == DataError.exit_code
    lines = [line for line in proc.stderr.splitlines() if "cuda" not in line.lower()]
    assert lines[-2:] == [
        "error: space.yaml: 1 problem in the search space:",
        "  - line 1: data.source.csv: data.csv, line 3: expected text in utf-8, got the byte "
        "0xe9. Set the "
        "file's encoding in data.source.csv (e.g. `encoding: latin-1` or `encoding: cp1252`)",
    ]
    assert "Traceback" not in proc.stderr
