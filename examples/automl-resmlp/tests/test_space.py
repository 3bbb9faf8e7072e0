"""The search space shipped in the package validates and tunes end to end (2 trials, 1 epoch)."""

from __future__ import annotations

from pathlib import Path

import yaml
from automl_resmlp import SPACE


def test_packaged_space_tunes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from automl.study import tune

    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tmp_path / "runs"))
    data = yaml.safe_load(SPACE.read_text())
    data["training"]["epochs"] = 1
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(data))
    result = tune(str(space), trials=2, progress=False)
    assert [row["state"] for row in result.leaderboard] == ["complete", "complete"]
    assert result.catalog["model_family"].owner("resmlp") == "resmlp"
