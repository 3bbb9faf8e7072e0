"""Helper of tests that tune a small study once (per module or session) and then inspect it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from automl.result import TuneResult
from automl.study import tune


def tune_space(root: Path, text: str) -> tuple[Path, TuneResult]:
    """Write the space `text` (dedented) to `root/space.yaml` and tune it, its runs/ beside it."""
    space = root / "space.yaml"
    space.write_text(textwrap.dedent(text).lstrip())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(root / "runs"))
        result = tune(str(space), progress=False)
    return space, result
