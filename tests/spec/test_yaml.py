"""Bounded, safe YAML reading: bombs, deep nesting, Python tags and bad bytes are clean errors."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from automl.errors import SpecError
from automl.spec import load_spec, load_yaml_with_lines, read_yaml
from automl.spec._yaml import MAX_BYTES, MAX_DEPTH, MAX_NODES


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each level repeats the previous one `width` times (~1 KB)."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_fast_and_small() -> None:
    text = alias_bomb()
    assert len(text) < 1500
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(SpecError, match=f"expected at most {MAX_NODES:,} YAML nodes"):
        load_yaml_with_lines(text, "bomb.yaml")
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seconds < 1.0
    assert peak < 100 * 2**20


def test_a_few_aliases_are_fine() -> None:
    text = "lr: &lr {low: 0.001, high: 0.1, log: true}\nadam: {learning_rate: *lr}\nsgd: *lr\n"
    data, lines = load_yaml_with_lines(text)
    assert data["adam"]["learning_rate"] == {"low": 0.001, "high": 0.1, "log": True}
    assert lines[("sgd",)] == 3


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(SpecError, match="YAML nodes with aliases expanded"):
        load_yaml_with_lines("a: &a [1, *a]\n")


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    text = "x: " + "[" * 20000 + "]" * 20000 + "\n"
    with pytest.raises(SpecError, match=f"nesting at most {MAX_DEPTH} levels deep") as info:
        load_yaml_with_lines(text, "deep.yaml")
    assert info.value.problems[0].line == 1


def test_python_tag_is_a_located_error() -> None:
    text = "study:\n  name: !!python/object/apply:os.system ['echo hi']\n"
    with pytest.raises(SpecError, match=r"line 2: unsupported YAML tag: .*no Python tags"):
        load_yaml_with_lines(text, "tag.yaml")


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("study:\n  name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(
        SpecError, match=r"(?s)latin1.yaml: .*line 2: expected UTF-8 text, got the byte 0xe9"
    ):
        read_yaml(path)


def test_oversized_file_and_directory_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_BYTES + "\n")
    with pytest.raises(SpecError, match="expected a search space under 1,000,000 bytes"):
        read_yaml(big)
    with pytest.raises(SpecError, match="expected a YAML file, got a directory"):
        load_spec(tmp_path)


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"(?s)missing.yaml: 1 problem.*cannot read the file"):
        load_spec(tmp_path / "missing.yaml")
