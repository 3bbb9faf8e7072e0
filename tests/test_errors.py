"""Every error kind has its exit status, and the README's table lists exactly those."""

from __future__ import annotations

import re
from pathlib import Path

from automl import errors
from automl.errors import EXIT_CODES, AutoMLError, Problem, SpecError

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_lists_every_exit_status_and_no_other() -> None:
    section = README.read_text().split("## Errors and exit codes", 1)[1].split("\n## ", 1)[0]
    listed = [int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)]
    assert listed == sorted(EXIT_CODES)


def test_each_error_kind_exits_with_a_documented_status() -> None:
    kinds = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, AutoMLError)]
    assert len(kinds) >= 10
    assert all(kind.exit_code in EXIT_CODES for kind in kinds)
    assert len({errors.DataError.exit_code, errors.StorageError.exit_code}) == 2


def test_a_spec_error_about_the_data_only_exits_as_a_data_error() -> None:
    data = Problem("data.source.csv", "data.csv: not utf-8", 3, data=True)
    spec = Problem("model", "unknown model family 'mpl'", 5)
    assert SpecError([data]).exit_code == errors.DataError.exit_code
    assert SpecError([data, spec]).exit_code == 2
    assert SpecError([spec]).exit_code == 2
