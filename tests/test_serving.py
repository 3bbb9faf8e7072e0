"""Serving: `automl.load(DIR)`, `automl predict`, the CSV/NPZ/image readers, schema mismatches.

Three tiny studies are tuned and exported once per module: a CSV classifier with categorical
columns and missing values (the model takes the raw cells), a regression on scikit-learn's
diabetes (numeric columns with names) and an image-folder classifier.
"""

from __future__ import annotations

import csv
import json
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import automl
from automl.cli import main
from automl.errors import ArtifactError, InputError, StudyError
from automl.export import export_model
from automl.serving import load_keras_model, read_input
from automl.study import tune

REPO = Path(__file__).resolve().parents[1]
CHURN = REPO / "search_spaces" / "data" / "churn.csv"

STUDY_COMMON = "  trials: 1\n  sampler: {random: {}}\n  pruner: none\n  seed: 0\n"
TRAINING = "training: {epochs: 2, batch_size: 32}\nactivation: relu\noptimizer: adam\n"

CSV_SPACE = """
study:
  name: predict-churn
  metric: accuracy
data:
  source: {csv: {path: churn.csv, target: churned}}
  folds: 1
  validation: 0.2
  test: 0.2
preprocessors: [impute, one_hot, standardize]
model:
  mlp: {layers: 1, units: 16}
loss: crossentropy
"""

REGRESSION_SPACE = """
study:
  name: predict-diabetes
  metric: rmse
data:
  source: {sklearn: {name: diabetes}}
  folds: 1
  validation: 0.2
  test: 0.2
preprocessors: [standardize]
model:
  mlp: {layers: 1, units: 16}
loss: mse
"""

IMAGE_SPACE = """
study:
  name: predict-images
  metric: accuracy
data:
  source: {image_folder: {path: images, height: 8, width: 8, channels: 1}}
  folds: 1
  validation: 0.2
  test: 0.2
preprocessors: [{rescale: {scale: 0.00392156862745098}}]
model:
  cnn: {blocks: 1, filters: 8, kernel_size: 3, pooling: max, dense_units: 16, dropout: 0.0}
loss: crossentropy
"""


def _space(text: str) -> str:
    return textwrap.dedent(text).lstrip().replace("data:", STUDY_COMMON + "data:", 1) + TRAINING


def _tune_and_export(root: Path, text: str) -> Path:
    space = root / "space.yaml"
    space.write_text(_space(text))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(root / "runs"))
        tune(str(space), progress=False)
        return export_model(str(space), root / "model")


def _write_pngs(folder: Path, images: np.ndarray, stem: str = "img") -> None:
    import tensorflow as tf

    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        png = tf.io.encode_png(np.asarray(image, dtype="uint8"))
        (folder / f"{stem}{i:03d}.png").write_bytes(png.numpy())


@pytest.fixture(scope="module")
def churn_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("churn")
    shutil.copy(CHURN, root / "churn.csv")
    return _tune_and_export(root, CSV_SPACE)


@pytest.fixture(scope="module")
def diabetes_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tune_and_export(tmp_path_factory.mktemp("diabetes"), REGRESSION_SPACE)


@pytest.fixture(scope="module")
def image_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from sklearn.datasets import load_digits

    root = tmp_path_factory.mktemp("images")
    digits = load_digits()
    for label in (0, 1, 2):
        pixels = np.minimum(digits.images[digits.target == label][:30] * 16, 255)  # 0..255
        _write_pngs(root / "images" / f"digit{label}", pixels[..., None])
    yield _tune_and_export(root, IMAGE_SPACE)


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


# --- CSV ---------------------------------------------------------------------------------------


def test_predict_csv_labels_and_probabilities(churn_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"
    assert main(["predict", str(churn_model), str(CHURN), "--out", str(out)]) == 0
    header, rows = _read_rows(out)
    assert header == ["id", "label", "p_no", "p_yes"]
    assert len(rows) == 600
    proba = np.asarray([[float(r[2]), float(r[3])] for r in rows])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    # the label is "yes" where p_yes reaches the decision threshold tuned at export (accuracy
    # on a binary task), recorded in model.json
    threshold = json.loads((churn_model / "model.json").read_text())["threshold"]["value"]
    assert 0.0 < threshold < 1.0
    assert [r[1] for r in rows] == [["no", "yes"][int(p >= threshold)] for p in proba[:, 1]]
    # the API on the raw cells (target column dropped) gives the same labels
    model = automl.load(churn_model)
    names, data = _read_rows(CHURN)
    keep = [i for i, n in enumerate(names) if n != "churned"]
    cells = np.asarray([[r[i] if r[i] != "NA" else "" for i in keep] for r in data], dtype=object)
    assert list(model.predict(cells)) == [r[1] for r in rows]
    np.testing.assert_allclose(model.predict_proba(cells), proba, atol=1e-5)


def test_csv_columns_are_matched_by_name(churn_model: Path, tmp_path: Path) -> None:
    header, rows = _read_rows(CHURN)
    order = list(reversed(range(len(header))))
    shuffled = _write_csv(
        tmp_path / "r.csv", [header[i] for i in order], [[r[i] for i in order] for r in rows]
    )
    schema = automl.load(churn_model).schema
    x1, _ = read_input(CHURN, schema)
    x2, _ = read_input(shuffled, schema)
    assert (x1 == x2).all()


def test_csv_missing_and_unexpected_columns(churn_model: Path, tmp_path: Path) -> None:
    header, rows = _read_rows(CHURN)
    schema = automl.load(churn_model).schema
    i = header.index("city")
    no_city = _write_csv(
        tmp_path / "a.csv", header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows]
    )
    with pytest.raises(InputError, match=r"the columns do not match.*missing columns \['city'\]"):
        read_input(no_city, schema)
    extra = _write_csv(tmp_path / "b.csv", [*header, "colour"], [[*r, "red"] for r in rows])
    with pytest.raises(InputError, match=r"unexpected columns \['colour'\]"):
        read_input(extra, schema)


def test_csv_non_number_in_numeric_model(diabetes_model: Path, tmp_path: Path) -> None:
    schema = automl.load(diabetes_model).schema
    names = schema["feature_names"]
    rows = [["0.01"] * len(names) for _ in range(3)]
    rows[1][names.index("bmi")] = "abc"
    with pytest.raises(
        InputError, match=r"line 3, column 'bmi': expected a number. Received: 'abc'"
    ):
        read_input(_write_csv(tmp_path / "x.csv", names, rows), schema)
    rows[1] = rows[1][:-1]
    with pytest.raises(
        InputError, match=r"line 3: expected 10 fields like the first line. Received: 9"
    ):
        read_input(_write_csv(tmp_path / "y.csv", names, rows), schema)


def test_csv_for_an_image_model_is_refused(image_model: Path, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "x.csv", ["a"], [["1"]])
    assert main(["predict", str(image_model), str(path)]) == 2


# --- regression and NPZ ------------------------------------------------------------------------


def test_regression_values_from_npz_and_csv(diabetes_model: Path, tmp_path: Path, capsys) -> None:
    import keras
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    x = data.data[:20].astype("float32")
    model = automl.load(diabetes_model)
    keras_model = keras.saving.load_model(diabetes_model / "model.keras")
    expected = keras_model.predict(x, verbose=0).reshape(-1)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5)
    with pytest.raises(InputError, match="predict_proba needs a classifier"):
        model.predict_proba(x)
    np.savez(tmp_path / "x.npz", x=x)
    assert main(["predict", str(diabetes_model), str(tmp_path / "x.npz")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,value"
    np.testing.assert_allclose([float(v.split(",")[1]) for v in lines[1:]], expected, rtol=1e-5)
    path = _write_csv(tmp_path / "x.csv", data.feature_names, [[str(v) for v in row] for row in x])
    xs, ids = read_input(path, model.schema)
    np.testing.assert_allclose(model.predict(xs), expected, rtol=1e-5)
    assert ids == [str(i) for i in range(20)]


def test_npz_errors(diabetes_model: Path, tmp_path: Path) -> None:
    schema = automl.load(diabetes_model).schema
    np.savez(tmp_path / "shape.npz", x=np.zeros((4, 9), dtype="float32"))
    with pytest.raises(
        InputError, match=r"expected inputs of shape \(n, 10\).*Received: shape=\(4, 9\)"
    ):
        read_input(tmp_path / "shape.npz", schema)
    np.savez(tmp_path / "dtype.npz", x=np.full((2, 10), "a"))
    with pytest.raises(
        InputError, match=r"expected numeric inputs \(float32\).*Received: dtype=<U1"
    ):
        read_input(tmp_path / "dtype.npz", schema)
    np.savez(tmp_path / "keys.npz", a=np.zeros((2, 10)), b=np.zeros((2, 10)))
    with pytest.raises(InputError, match=r"expected an array named 'x'.*Received: \['a', 'b'\]"):
        read_input(tmp_path / "keys.npz", schema)
    np.savez(tmp_path / "pickle.npz", x=np.asarray([{"a": 1}, None], dtype=object))
    with pytest.raises(
        InputError, match=r"holds Python objects, which would need pickle to load: refused"
    ):
        read_input(tmp_path / "pickle.npz", schema)
    with pytest.raises(
        InputError, match=r"expected a .csv file, a .npz file or a folder of images"
    ):
        read_input(REPO / "pyproject.toml", schema)
    with pytest.raises(InputError, match=r"no such input file or folder"):
        read_input(tmp_path / "nope.npz", schema)


def test_npz_output_file(diabetes_model: Path, tmp_path: Path) -> None:
    np.savez(tmp_path / "x.npz", x=np.zeros((3, 10), dtype="float32"))
    assert (
        main(
            [
                "predict",
                str(diabetes_model),
                str(tmp_path / "x.npz"),
                "--out",
                str(tmp_path / "p.npz"),
            ]
        )
        == 0
    )
    with np.load(tmp_path / "p.npz", allow_pickle=False) as out:
        assert out["value"].shape == (3,)


# --- image folders -----------------------------------------------------------------------------


def test_predict_image_folder(image_model: Path, tmp_path: Path) -> None:
    import tensorflow as tf
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.minimum(digits.images[:12] * 16, 255)[..., None]
    folder = tmp_path / "new"
    _write_pngs(folder, pixels)
    big = tf.image.resize(pixels[:2].astype("float32"), (16, 16)).numpy().round()
    _write_pngs(folder / "big", big)  # other sizes are resized as the image_folder source does
    model = automl.load(image_model)
    x, ids = read_input(folder, model.schema)
    assert x.shape == (14, 8, 8, 1)
    assert ids[:2] == ["big/img000.png", "big/img001.png"] and ids[2] == "img000.png"
    np.testing.assert_array_equal(x[2:], pixels.astype("float32"))
    out = tmp_path / "p.csv"
    assert main(["predict", str(image_model), str(folder), "--out", str(out)]) == 0
    header, rows = _read_rows(out)
    assert header == ["id", "label", "p_digit0", "p_digit1", "p_digit2"]
    assert [r[1] for r in rows] == list(model.predict(x))
    assert set(model.predict(x)) <= {"digit0", "digit1", "digit2"}


def test_image_folder_errors(image_model: Path, diabetes_model: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    schema = automl.load(image_model).schema
    with pytest.raises(InputError, match=r"has no images"):
        read_input(tmp_path / "empty", schema)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match=r"x.png is not a readable image"):
        read_input(tmp_path / "broken", schema)
    with pytest.raises(InputError, match=r"an image folder needs a model that takes images"):
        read_input(tmp_path / "broken", automl.load(diabetes_model).schema)


def test_image_size_mismatch_without_resize_is_an_error(tmp_path: Path) -> None:
    _write_pngs(tmp_path / "imgs", np.zeros((1, 16, 16, 1)))
    schema = {"shape": [8, 8, 1], "dtype": "float32", "format": "npz"}
    with pytest.raises(InputError, match=r"expected images of 8x8 pixels.*Received: 16x16"):
        read_input(tmp_path / "imgs", schema)


def test_load_needs_an_export_directory(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"is not an exported model: expected model.json"):
        automl.load(tmp_path)
    assert main(["predict", str(tmp_path), str(tmp_path)]) == ArtifactError.exit_code


def test_csv_without_recorded_names_is_read_by_position(tmp_path: Path) -> None:
    schema = {"shape": [3], "dtype": "float32"}
    (tmp_path / "a.csv").write_text("1,2,3\n4,NA,6\n")  # no header line: every line is data
    x, ids = read_input(tmp_path / "a.csv", schema)
    np.testing.assert_array_equal(x, np.array([[1, 2, 3], [4, np.nan, 6]], dtype="float32"))
    assert ids == ["0", "1"]
    (tmp_path / "b.csv").write_text("a,b,c\n1,2,x\n")
    with pytest.raises(
        InputError, match=r"b.csv, line 2, column 'column 2': expected a number. Received: 'x'"
    ):
        read_input(tmp_path / "b.csv", schema)
    (tmp_path / "c.csv").write_text("1,2\n")
    with pytest.raises(
        InputError, match=r"c.csv: expected 3 columns as recorded at export. Received: 2 columns"
    ):
        read_input(tmp_path / "c.csv", schema)
    (tmp_path / "d.csv").write_text("a,b,c\n\n")
    with pytest.raises(InputError, match=r"d.csv has a header but no data rows"):
        read_input(tmp_path / "d.csv", schema)


def test_a_missing_custom_class_names_the_plugin_to_install(tmp_path: Path) -> None:
    import keras

    @keras.saving.register_keras_serializable(package="gone_plugin")
    class Twice(keras.layers.Layer):
        def call(self, x: object) -> object:
            return x * 2  # type: ignore[operator]

    keras.Sequential([keras.Input((2,)), Twice()]).save(tmp_path / "m.keras")
    keras.saving.get_custom_objects().pop("gone_plugin>Twice")  # as if the plugin were absent
    card = {
        "plugins": [
            {"plugin": "twice", "source": "entry point", "distribution": "automl-twice",
             "version": "1.2"},
            {"plugin": "local_twice", "source": "local", "distribution": None, "version": None},
            {"plugin": "automl_plugins.models", "source": "built-in",
             "distribution": "automl-keras", "version": "0.1.0"},
        ]
    }  # fmt: skip
    with pytest.raises(
        StudyError,
        match=r"m\.keras uses the custom Keras object package 'gone_plugin' that is not "
        r"registered here: install the plugin that provides it \(automl-twice==1\.2, "
        r"local_twice\) and make sure it is not disabled",
    ):
        load_keras_model(tmp_path / "m.keras", card)


def test_a_column_dropped_as_empty_at_training_may_stay_in_the_input(tmp_path: Path) -> None:
    schema = {
        "shape": [2],
        "dtype": "float32",
        "feature_names": ["a", "b"],
        "target": "label",
        "dropped_columns": ["notes"],
    }
    (tmp_path / "rows.csv").write_text("a,notes,b\n1,,2\n3,x,4\n")
    x, _ = read_input(tmp_path / "rows.csv", schema)
    np.testing.assert_array_equal(x, np.array([[1, 2], [3, 4]], dtype="float32"))
