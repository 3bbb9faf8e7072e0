"""The README as written: its shell, Python and YAML blocks are extracted, checked and run.

The fence's language says what a block is; an HTML comment on the line just above the fence
(GitHub does not render it) says what this test does with it:

- `<!-- readme: run -->`: a quick block (seconds): run in a scratch folder.
- `<!-- readme: run slow -->`: run by the slow test, in README order, in one scratch folder where a
  small `digits-cnn` study was first tuned and exported where `make tune` leaves it
  (`runs/digits-cnn/best`), as the README's first commands assume.
- `<!-- readme: validate -->` (YAML): a complete search space that `automl validate` accepts.
- no comment: a bash block must parse (`bash -n`), a Python block compile, a YAML block load.

The scratch folder links the repository's `search_spaces/`, `examples/`, `docs/` and `.venv` (this
interpreter's), and has the `.venv`'s `bin/` first on PATH, so `automl ...` and `.venv/bin/...`
both run as written; `runs/` is the folder's own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from automl.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARKER = re.compile(r"^<!-- readme: (run|run slow|validate) -->$")
RUNNERS = {"bash": ["bash", "-e", "-c"], "python": [sys.executable, "-c"]}
LINKED = ("search_spaces", "examples", "docs")


@dataclass(frozen=True)
class Block:
    """One fenced block: the README line of its fence, its language, text and marker."""

    line: int
    lang: str
    text: str
    mark: str | None

    def __str__(self) -> str:
        return f"README.md:{self.line}:{self.lang}" + (f":{self.mark}" if self.mark else "")


def read_blocks(path: Path = README) -> list[Block]:
    """Every fenced block; a `<!-- readme: ... -->` line must be a known marker above a fence."""
    lines = path.read_text().splitlines()
    blocks, start, lang = [], -1, ""
    for number, line in enumerate(lines, 1):
        if line.startswith("<!-- readme"):
            fence_below = number < len(lines) and lines[number].startswith("```")
            if not MARKER.match(line) or not fence_below:
                raise ValueError(f"{path.name}:{number}: {line!r} is no marker above a fence")
        if not line.startswith("```"):
            continue
        if start < 0:
            start, lang = number, line[3:].strip()
            continue
        above = lines[start - 2] if start >= 2 else ""
        match = MARKER.match(above)
        text = "\n".join(lines[start : number - 1])
        blocks.append(Block(start, lang, text, match.group(1) if match else None))
        start = -1
    if start >= 0:
        raise ValueError(f"{path.name}:{start}: a fence that is never closed")
    return blocks


BLOCKS = read_blocks()


def _marked(mark: str) -> list[Block]:
    return [b for b in BLOCKS if b.mark == mark]


def _scratch(folder: Path) -> dict[str, str]:
    """Link the repository's folders and the .venv into `folder`; the environment to run in."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        (folder / name).symlink_to(REPO / name)
    (folder / ".venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if k != "AUTOML_RUNS_DIR"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _run(block: Block, folder: Path, env: dict[str, str], timeout: int = 600) -> None:
    done = subprocess.run(
        [*RUNNERS[block.lang], block.text],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{block} failed ({done.returncode}):\n{done.stderr[-3000:]}"


def test_markers_sit_above_fences_of_the_right_kind(tmp_path: Path) -> None:
    assert all(b.lang in RUNNERS for b in BLOCKS if b.mark in ("run", "run slow"))
    assert all(b.lang == "yaml" for b in _marked("validate"))
    bad = tmp_path / "bad.md"
    bad.write_text("<!-- readme: runn -->\n```bash\ntrue\n```\n")
    with pytest.raises(
        ValueError, match=r"bad.md:1: '<!-- readme: runn -->' is no marker above a fence"
    ):
        read_blocks(bad)
    bad.write_text("```bash\ntrue\n")
    with pytest.raises(ValueError, match=r"bad.md:1: a fence that is never closed"):
        read_blocks(bad)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "bash"], ids=str)
def test_shell_blocks_parse(block: Block) -> None:
    done = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True)
    assert done.returncode == 0, f"{block}: {done.stderr}"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "python"], ids=str)
def test_python_blocks_compile(block: Block) -> None:
    compile(block.text, str(block), "exec")


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "yaml"], ids=str)
def test_yaml_blocks_load(block: Block) -> None:
    assert isinstance(yaml.safe_load(block.text), dict)


@pytest.mark.parametrize("block", _marked("validate"), ids=str)
def test_complete_spaces_validate(block: Block, tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(block.text)
    spec = load_spec(path)
    assert spec.slots  # resolved against the real plugins


@pytest.mark.parametrize("block", _marked("run"), ids=str)
def test_quick_blocks_run(block: Block, tmp_path: Path) -> None:
    _run(block, tmp_path, _scratch(tmp_path), timeout=120)


@pytest.fixture(scope="module")
def tuned_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A scratch folder with what `make tune` leaves: a digits-cnn study and its export."""
    folder = tmp_path_factory.mktemp("readme")
    env = _scratch(folder)
    space = "search_spaces/digits_cnn.yaml"
    for command in (
        f"automl tune {space} --trials 2 --no-progress",
        f"automl export {space} --out runs/digits-cnn/best",
    ):
        setup = Block(0, "bash", command, "setup")
        _run(setup, folder, env)
    return folder, env


@pytest.mark.slow
@pytest.mark.parametrize("block", _marked("run slow"), ids=str)
def test_slow_blocks_run(block: Block, tuned_folder: tuple[Path, dict[str, str]]) -> None:
    _run(block, *tuned_folder)
