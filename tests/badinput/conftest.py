"""The bad-input suite's fixture: run a case's `automl` command in its own folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from badinput_util import Case, Outcome, write_files

from automl.cli import main


@pytest.fixture
def run_automl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[Case], Outcome]:
    """Run a case's command in its own folder; argparse usage errors count as exit status 2."""

    def run(case: Case) -> Outcome:
        write_files(tmp_path, case.files)
        for name, value in case.env.items():
            monkeypatch.setenv(name, value.format(tmp=tmp_path))
        monkeypatch.chdir(tmp_path)
        capsys.readouterr()
        try:
            code = main([a.format(tmp=tmp_path) for a in case.argv])
        except SystemExit as exc:  # argparse: a usage error
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
