"""Shared fixtures: a private runs/ directory per test and a helper to write search spaces."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

REPO = Path(__file__).resolve().parents[1]
SPACES = REPO / "search_spaces"


@pytest.fixture(autouse=True)
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes its studies under its own temporary runs/ directory."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(runs))
    return runs


@pytest.fixture
def write_space(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a YAML search space (dedented) into the test's directory and return its path."""

    def write(text: str, name: str = "space.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write


@pytest.fixture(scope="session")
def catalog():  # type: ignore[no-untyped-def]
    """The registries with built-ins and installed plugins (built once per test session)."""
    from automl.plugins import load_catalog

    return load_catalog()
