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


IRIS = """
study: {name: artifact, trials: 1, seed: 0}
data: {source: {sklearn: {name: iris}}, folds: 1}
training: {epochs: 1}
model: {mlp: {layers: 1, units: 8}}
"""


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real artifact: one iris trial tuned and exported (model.keras + model.json)."""
    from automl.export import export_model
    from automl.study import tune

    root = tmp_path_factory.mktemp("artifact")
    space = root / "space.yaml"
    space.write_text(IRIS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(root / "runs"))
        tune(str(space), progress=False)
        return export_model(str(space), root / "best")
