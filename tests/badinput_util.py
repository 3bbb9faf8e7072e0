"""Helpers of the bad-input suite: each case runs the real `automl` command (in this process)
on a broken input and checks the one-paragraph error: its exit status, no traceback, and that
it names the place (the file, the YAML line and path, the column, the URL).

A case is files to write into the test's folder, the command line and the expected outcome.
`{tmp}` in the command line is the test's folder. The command runs with the folder as its
working directory, so messages name files as a user typed them.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One bad input: the files, the command, and what the user must be told.

    Args:
        id: the test id.
        argv: the command line (`{tmp}` is the test's folder).
        code: the expected exit status.
        place: text the message must contain: where the problem is.
        says: a regular expression the message must match: what is wrong.
        files: file name -> text (dedented) or bytes, written first.
        env: environment variables to set.
    """

    id: str
    argv: tuple[str, ...]
    code: int
    place: str
    says: str
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def write_files(folder: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip())


def check(case: Case, outcome: Outcome) -> None:
    """The exit status, no traceback, one error paragraph naming the place, what is wrong."""
    err = outcome.err
    assert outcome.code == case.code, err
    assert "Traceback" not in err
    # one error paragraph: `error: ...`, or argparse's `automl tune: error: ...` after its usage
    errors = [line for line in err.splitlines() if re.match(r"(automl[\w ]*: )?error: ", line)]
    assert len(errors) == 1, err
    assert case.place in err, err
    assert re.search(case.says, err, re.DOTALL), err
