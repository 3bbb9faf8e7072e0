"""Broken exported models and inputs for `automl predict`: a truncated or foreign model.keras,
a corrupt model.json, a Lambda layer that safe mode refuses; each names the file."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest
from badinput_util import Case, Outcome, check

from automl.errors import ArtifactError, InputError

ARTIFACT, INPUT = ArtifactError.exit_code, InputError.exit_code


@dataclass(frozen=True)
class Broken:
    """A copy of the exported model, broken by `damage`, then `automl predict best INPUT`."""

    id: str
    damage: Callable[[Path], None]
    code: int
    place: str
    says: str
    input: str = "rows.npz"


def truncate(name: str) -> Callable[[Path], None]:
    def damage(best: Path) -> None:
        data = (best / name).read_bytes()
        (best / name).write_bytes(data[: len(data) // 2])

    return damage


def write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def damage(best: Path) -> None:
        target = best / name
        if target.is_dir():
            shutil.rmtree(target)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)

    return damage


def remove(name: str) -> Callable[[Path], None]:
    return lambda best: (best / name).unlink()


def card_without(key: str) -> Callable[[Path], None]:
    def damage(best: Path) -> None:
        card = json.loads((best / "model.json").read_text())
        del card[key]
        (best / "model.json").write_text(json.dumps(card))

    return damage


def lambda_model(best: Path) -> None:
    """A model.keras whose layer is a Python lambda (what an attacker would ship)."""
    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
    keras.Model(inputs, outputs).save(best / "model.keras")


def foreign_zip(best: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a model")
    (best / "model.keras").write_bytes(buffer.getvalue())


def model_folder(best: Path) -> None:
    (best / "model.keras").unlink()
    (best / "model.keras").mkdir()


BROKEN = [
    Broken(
        "truncated_model",
        truncate("model.keras"),
        ARTIFACT,
        "model.keras",
        r"expected a \.keras file \(a zip archive\).*truncated or corrupt",
    ),
    Broken("empty_model", write("model.keras", b""), ARTIFACT, "model.keras", r"\(0 bytes\)"),
    Broken(
        "model_is_a_zip_of_something_else",
        foreign_zip,
        ARTIFACT,
        "model.keras",
        r"Keras cannot load this model",
    ),
    Broken(
        "lambda_layer",
        lambda_model,
        ARTIFACT,
        "model.keras",
        r"holds a Lambda layer \(Python code\), which Keras safe mode refuses",
    ),
    Broken(
        "model_is_a_folder",
        model_folder,
        ARTIFACT,
        "best",
        r"is not an exported model: expected model.keras in it",
    ),
    Broken(
        "missing_card",
        remove("model.json"),
        ARTIFACT,
        "best",
        r"is not an exported model: expected model.json",
    ),
    Broken(
        "truncated_card",
        truncate("model.json"),
        ARTIFACT,
        "model.json",
        r"expected the JSON that `automl export` writes, but line \d+ column \d+",
    ),
    Broken(
        "card_is_binary",
        write("model.json", b"\xff\xfe\x00garbage"),
        ARTIFACT,
        "model.json",
        r"expected UTF-8 JSON",
    ),
    Broken(
        "card_is_a_list",
        write("model.json", "[1, 2, 3]"),
        ARTIFACT,
        "model.json",
        r"expected the card .* with task and input_shape. Received: list",
    ),
    Broken(
        "card_without_task",
        card_without("task"),
        ARTIFACT,
        "model.json",
        r"with task\. Received: dict without them",
    ),
    Broken(
        "input_missing",
        lambda best: None,
        INPUT,
        "nope.csv",
        r"no such input file or folder",
        input="nope.csv",
    ),
    Broken(
        "input_of_another_width",
        lambda best: None,
        INPUT,
        "Received: shape=(2, 3)",
        r"expected inputs of shape \(n, 4\)",
        input="narrow.npz",
    ),
    Broken(
        "input_csv_with_text",
        lambda best: None,
        INPUT,
        "rows.csv, line 3, column 'sepal width (cm)'",
        r"expected a number. Received: 'tall'",
        input="rows.csv",
    ),
    Broken(
        "input_npz_of_objects",
        lambda best: None,
        INPUT,
        "objects.npz",
        r"holds Python objects",
        input="objects.npz",
    ),
    Broken(
        "input_of_unknown_kind",
        lambda best: None,
        INPUT,
        "rows.json",
        r"expected a \.csv file, a \.npz file or a folder of images",
        input="rows.json",
    ),
]

INPUTS = {
    "rows.npz": {"x": np.ones((2, 4), dtype="float32")},
    "narrow.npz": {"x": np.ones((2, 3), dtype="float32")},
    "objects.npz": {"x": np.array([[1, "a", None, 2]], dtype=object)},
}


@pytest.mark.parametrize("broken", BROKEN, ids=[b.id for b in BROKEN])
def test_a_broken_artifact_or_input_is_named(
    broken: Broken, exported: Path, tmp_path: Path, run_automl: Callable[[Case], Outcome]
) -> None:
    best = tmp_path / "best"
    shutil.copytree(exported, best)
    broken.damage(best)
    for name, arrays in INPUTS.items():
        np.savez(tmp_path / name, **arrays, allow_pickle=True)  # type: ignore[arg-type]
    names = json.loads((exported / "model.json").read_text())["input_schema"]["feature_names"]
    (tmp_path / "rows.csv").write_text(",".join(names) + "\n5,6,7,8\n1,tall,3,4\n")
    (tmp_path / "rows.json").write_text("[]")
    case = Case(
        broken.id, ("predict", "best", broken.input), broken.code, broken.place, broken.says
    )
    check(case, run_automl(case))


def test_the_intact_artifact_predicts(exported: Path, tmp_path: Path) -> None:
    """The control: the same command on the undamaged copy works."""
    from automl.cli import main

    np.savez(tmp_path / "rows.npz", x=np.ones((2, 4), dtype="float32"))
    assert main(["predict", str(exported), str(tmp_path / "rows.npz")]) == 0
