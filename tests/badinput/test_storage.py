"""Storages that cannot be opened, read or written: one paragraph naming the file or the URL
(password hidden), exit status 6."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from badinput_util import Case, Outcome, check

from automl.cli import main
from automl.errors import StorageError
from automl.spec import load_spec
from automl.storage import open_study

SPACE = """
study: {name: store, trials: 1}
data: {source: {sklearn: {name: iris}}}
training: {epochs: 1}
model: {mlp: {layers: 1, units: 4}}
"""
FILES = {"space.yaml": SPACE}
STORAGE = StorageError.exit_code


def storage_case(id: str, url: str, place: str, says: str, command: str = "trials") -> Case:
    return Case(id, (command, "space.yaml", "--storage", url), STORAGE, place, says, FILES)


CASES = [
    storage_case(
        "unknown_scheme",
        "foo://somewhere/db",
        "foo://somewhere/db",
        r"cannot open the storage foo://somewhere/db: .*Expected a reachable Optuna storage URL",
    ),
    storage_case(
        "unreachable_postgres",
        "postgresql://user:secret@127.0.0.1:9/automl",
        "postgresql://user:***@127.0.0.1:9/automl",
        r"cannot open the storage postgresql://user:\*\*\*@127.0.0.1:9/automl: .*connect",
        command="tune",
    ),
    storage_case(
        "sqlite_in_a_missing_folder",
        "sqlite:///missing/study.db",
        "sqlite:///missing/study.db",
        r"its folder missing does not exist",
    ),
    Case(
        "sqlite_file_that_is_not_a_database",
        ("tune", "space.yaml", "--storage", "sqlite:///notes.db"),
        STORAGE,
        "sqlite:///notes.db",
        r"cannot open the storage sqlite:///notes.db: .*not a database",
        {**FILES, "notes.db": "just some notes, " * 400},
    ),
    Case(
        "journal_path_is_a_folder",
        ("trials", "space.yaml", "--storage", "journal"),
        STORAGE,
        "journal",
        r"expected a journal file for the study's storage, got a folder",
        {**FILES, "journal/x": ""},
    ),
    Case(
        "journal_path_is_not_a_journal",
        ("tune", "space.yaml", "--storage", "README.md"),
        STORAGE,
        "README.md",
        r"expected an Optuna journal file .* first line is not a journal record",
        {**FILES, "README.md": "# My project\n\nSome notes.\n"},
    ),
    Case(
        "journal_folder_under_a_file",
        ("tune", "space.yaml", "--storage", "notes.txt/journal.log"),
        STORAGE,
        "notes.txt",
        r"cannot create the study's folder notes.txt: .*(file|exists)",
        {**FILES, "notes.txt": "x"},
    ),
    Case(
        "runs_dir_is_a_file",
        ("tune", "space.yaml", "--no-progress"),
        STORAGE,
        "AUTOML_RUNS_DIR=",
        r"cannot create the study's folder .*runs-file/store: .*file",
        {**FILES, "runs-file": "x"},
        {"AUTOML_RUNS_DIR": "{tmp}/runs-file"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_storage_that_does_not_work_is_named(
    case: Case, run_automl: Callable[[Case], Outcome]
) -> None:
    outcome = run_automl(case)
    check(case, outcome)
    assert "secret" not in outcome.err


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` read-only: without write permission, or, for root (whom permissions do not
    stop), as a read-only bind mount of itself."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in (folder, *folder.rglob("*"))}
        for path in modes:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    mount = ["mount", "--bind", str(folder), str(folder)]
    if subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.fail("as root, a read-only folder needs `mount --bind` (CAP_SYS_ADMIN)")
    try:
        remount = ["mount", "-o", "remount,ro,bind", str(folder)]
        subprocess.run(remount, check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_runs_folder_is_named_for_a_new_study_and_on_resume(
    tmp_path: Path, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """New study: its folder cannot be created. Resume: the journal cannot be written. Both
    name the place with exit status 6; reading the study (`automl trials`) still works."""
    space, fresh = tmp_path / "space.yaml", tmp_path / "fresh.yaml"
    space.write_text(SPACE)
    fresh.write_text(SPACE.replace("name: store", "name: fresh"))
    open_study(load_spec(space))  # the study begins, no trial yet
    with read_only(runs_dir):
        new_status = main(["tune", str(fresh), "--no-progress"])
        new_err = capsys.readouterr().err
        resume_status = main(["tune", str(space), "--no-progress"])
        resume_err = capsys.readouterr().err
        list_status = main(["trials", str(space)])
        listed = capsys.readouterr()
    assert new_status == STORAGE
    assert f"cannot create the study's folder {runs_dir / 'fresh'}: " in new_err
    assert re.search(r"(read-only|permission denied)", new_err)
    assert resume_status == STORAGE
    assert f"cannot write to the journal file {runs_dir / 'store' / 'journal.log'}" in resume_err
    assert "The record was not written and the file is as it was before it" in resume_err
    assert "Traceback" not in new_err + resume_err
    assert list_status == 0, listed.err
    assert listed.out == "(no finished trials yet)\n"
