"""The artifact directory is written all at once: --force, failures, nothing left behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from automl.errors import ExportError
from automl.export import export_model
from automl.export._atomic import atomic_directory


def test_existing_directory_needs_force(space: Path, tmp_path: Path) -> None:
    out = tmp_path / "best"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(ExportError, match=r"already exists: pass --force to replace it"):
        export_model(str(space), out)
    assert (out / "keep.txt").exists()
    export_model(str(space), out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["MODEL_CARD.md", "model.json", "model.keras"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]  # nothing set aside is left
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ExportError, match=r"already exists"):
        export_model(str(space), a_file)
    assert (export_model(str(space), a_file, force=True) / "model.keras").exists()


def test_a_failure_leaves_the_old_directory_and_no_temporary_one(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "out"
    out.mkdir(parents=True)
    (out / "old.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_directory(out) as directory:
        assert directory.parent == out.parent and directory.name.startswith(".out.")
        (directory / "new.txt").write_text("new")
        raise KeyboardInterrupt
    assert [p.name for p in out.parent.iterdir()] == ["out"]
    assert [p.name for p in out.iterdir()] == ["old.txt"]


def test_success_replaces_an_old_directory_or_file(tmp_path: Path) -> None:
    out = tmp_path / "a" / "out"  # the parent is created
    with atomic_directory(out) as directory:
        (directory / "first.txt").write_text("1")
    assert [p.name for p in out.iterdir()] == ["first.txt"]
    with atomic_directory(out) as directory:  # replaces a directory
        (directory / "second.txt").write_text("2")
    assert [p.name for p in out.iterdir()] == ["second.txt"]
    shutil.rmtree(out)
    out.write_text("a file")
    with atomic_directory(out) as directory:  # replaces a file
        (directory / "third.txt").write_text("3")
    assert [p.name for p in out.iterdir()] == ["third.txt"]
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # nothing set aside is left


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_the_artifact_gets_the_mode_of_a_new_directory(tmp_path: Path, umask: int) -> None:
    import os
    import stat

    old = os.umask(umask)
    try:
        with atomic_directory(tmp_path / "best") as directory:
            (directory / "model.json").write_text("{}")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "best").stat().st_mode)
    assert mode == 0o777 & ~umask  # 0755 under the usual umask, not mkdtemp's 0700
    assert stat.S_IMODE((tmp_path / "best" / "model.json").stat().st_mode) == 0o666 & ~umask
