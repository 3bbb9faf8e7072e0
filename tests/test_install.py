"""A non-editable install ships the built-ins as `automl_plugins`, never as a bare `plugins`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and pip-installs a package

REPO = Path(__file__).resolve().parents[1]


def test_wheel_and_non_editable_install(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(REPO),
        ],
        check=True,
    )
    (wheel,) = wheel_dir.glob("automl_keras-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "automl_plugins/models.py" in names
    assert "automl/hookspecs.py" in names
    assert "automl/plugins/__init__.py" in names and "automl/testing/__init__.py" in names
    assert not any(name.startswith("plugins/") for name in names)

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    script = (
        "import automl, automl_plugins, sys;"
        f"assert automl.__file__.startswith({str(target)!r}), automl.__file__;"
        f"assert automl_plugins.__file__.startswith({str(target)!r}), automl_plugins.__file__;"
        "from automl.cli import main;"
        f"sys.exit(main(['validate', {str(REPO / 'search_spaces' / 'digits_cnn.yaml')!r}]))"
    )
    # the installed copy comes first on the path; the other dependencies come from this venv
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "AUTOML_NO_ENTRY_POINTS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "OK (study 'digits-cnn'" in proc.stdout
