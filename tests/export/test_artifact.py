"""`export_model` end to end through the CLI (`automl export`) and the public API."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest


def test_cli_export_and_errors(
    space: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from automl.cli import main

    out = tmp_path / "cli"
    assert main(["export", str(space), "--out", str(out), "--format", "saved_model"]) == 0
    printed = capsys.readouterr().out
    # a hold-out study: the trial's own weights, estimated on its validation split
    line = rf"^exported trial \d+ to {re.escape(str(out))}: estimate accuracy 0\.\d{{4}}, test "
    assert re.search(line + r"accuracy 0\.\d{4}$", printed, re.MULTILINE)
    assert "saved_model: max abs difference vs Keras" in printed
    assert main(["export", str(space), "--out", str(out)]) == 4
    assert "already exists: pass --force" in capsys.readouterr().err
    assert main(["export", str(space), "--out", str(tmp_path / "x"), "--format", "pdf"]) == 4
    assert "Unknown export format" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["cli"]


def test_public_export_model_function(space: Path, tmp_path: Path) -> None:
    import automl
    import automl.export  # the module keeps its own name; the function is export_model

    assert (automl.export_model(str(space), tmp_path / "api") / "model.keras").exists()
