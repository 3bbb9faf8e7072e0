"""Data sources on real files the tests write: shapes, tasks, schemas and error messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from automl.data import partition_dataset
from automl.errors import AutoMLError, DataError, SpecError
from automl.spec import RawSpace, resolve


def source(catalog: Any, name: str) -> Any:
    return catalog["data_source"].get(name)


# ------------------------------------------------------------------------------------ sklearn
@pytest.mark.parametrize(
    ("name", "shape", "task"),
    [
        ("digits", (1797, 8, 8, 1), "multiclass"),
        ("iris", (150, 4), "multiclass"),
        ("wine", (178, 13), "multiclass"),
        ("breast_cancer", (569, 30), "binary"),
        ("diabetes", (442, 10), "regression"),
    ],
)
def test_sklearn_bundled_sets(catalog: Any, name: str, shape: tuple[int, ...], task: str) -> None:
    sk = source(catalog, "sklearn")
    data = sk.load(name=name)
    assert data.x.shape == shape and data.x.dtype == np.float32
    assert data.task == task == sk.task(name=name)
    assert partition_dataset(data, 0.2, 0.2).task == task


def test_sklearn_synthetic_sets_have_the_asked_size_and_imbalance(catalog: Any) -> None:
    sk = source(catalog, "sklearn")
    data = sk.load(name="make_classification", n_samples=500, n_features=7, minority=0.1)
    assert data.x.shape == (500, 7) and data.task == "binary"
    assert 0.07 < np.mean(data.y == 1) < 0.13
    multi = sk.load(name="make_classification", n_samples=300, n_classes=3, n_informative=3)
    assert multi.task == "multiclass" == sk.task(name="make_classification", n_classes=3)
    reg = sk.load(name="make_regression", n_samples=200, n_features=3)
    assert reg.x.shape == (200, 3) and reg.task == "regression"
    with pytest.raises(AutoMLError, match=r"n_classes \* 2 <= 2 \*\* n_informative"):
        sk.load(name="make_classification", n_classes=8, n_informative=2)


# ---------------------------------------------------------------------------------------- csv
CSV = """age,city,income,label
34,berlin,52000,yes
,oslo,NA,no
51,,61000,yes
28,rome,?,no
45,berlin,48000,no
"""


def test_csv_with_categorical_columns_and_missing_values(catalog: Any, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    csv_source = source(catalog, "csv")
    data = csv_source.load(path=str(path), target="label")
    assert data.x.shape == (5, 3) and data.x.dtype == object
    assert data.x[1].tolist() == ["", "oslo", ""]  # every missing marker becomes ""
    assert data.feature_names == ["age", "city", "income"]
    assert list(data.y) == ["yes", "no", "yes", "no", "no"]
    assert csv_source.task(path=str(path), target="label") == "binary"
    schema = data.schema
    assert schema["target"] == "label" and schema["format"] == "csv"
    assert schema["columns"] == [
        {"name": "age", "kind": "numeric", "missing": 1},
        {"name": "city", "kind": "categorical", "missing": 1},
        {"name": "income", "kind": "numeric", "missing": 2},
    ]


def test_numeric_csv_gives_floats_with_nan(catalog: Any, tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("a;b;y\n1;2.5;0.5\n;3;1.5\n4;nan;2.25\n")
    data = source(catalog, "csv").load(path=str(path), delimiter=";")  # target: last column
    assert data.x.dtype == np.float32
    np.testing.assert_array_equal(np.isnan(data.x), [[0, 0], [1, 0], [0, 1]])
    assert source(catalog, "csv").task(path=str(path), delimiter=";") == "regression"


def test_csv_errors(catalog: Any, tmp_path: Path) -> None:
    csv_source = source(catalog, "csv")
    with pytest.raises(AutoMLError, match=r"csv file not found: .*missing\.csv"):
        csv_source.load(path=str(tmp_path / "missing.csv"))
    path = tmp_path / "p.csv"
    path.write_text(CSV)
    with pytest.raises(AutoMLError, match="no target column 'lable'; did you mean 'label'"):
        csv_source.load(path=str(path), target="lable")
    path.write_text("a,b\n1,2\n3\n")
    with pytest.raises(AutoMLError, match="line 3 has 1 fields, the header has 2"):
        csv_source.load(path=str(path))
    path.write_text("a,b,y\n1,2,\n3,4,1\n")
    with pytest.raises(AutoMLError, match="target column has 1 missing values"):
        csv_source.load(path=str(path))
    path.write_text("only\n1\n")
    with pytest.raises(AutoMLError, match="at least 2 columns"):
        csv_source.load(path=str(path))


def test_csv_without_a_header_line(catalog: Any, tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("1,2.5,0\n3,4.5,1\n5,6.5,0\n7,8.5,1\n")
    csv = source(catalog, "csv")
    data = csv.load(path=str(path), header=False)
    assert data.feature_names == ["column_1", "column_2"]
    np.testing.assert_array_equal(data.x, [[1, 2.5], [3, 4.5], [5, 6.5], [7, 8.5]])
    assert list(data.y) == [0, 1, 0, 1]
    assert data.schema["target"] == "column_3"
    assert csv.task(path=str(path), header=False, target="column_3") == "binary"
    with pytest.raises(DataError, match=r"plain.csv: the first line looks like data"):
        csv.load(path=str(path))


def test_csv_in_another_encoding(catalog: Any, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("ville,n,label\nzürich,1,oui\nbâle,2,non\n".encode("latin-1"))
    data = source(catalog, "csv").load(path=str(path), encoding="latin-1")
    assert data.x[:, 0].tolist() == ["zürich", "bâle"]
    assert list(data.y) == ["oui", "non"]


def test_csv_empty_columns_are_dropped_by_name_with_a_warning(catalog: Any, tmp_path: Path) -> None:
    path = tmp_path / "sparse.csv"
    path.write_text("a,notes,b,label\n1,,2,yes\n3,NA,4,no\n5, ,6,yes\n")
    with pytest.warns(UserWarning, match=r"sparse.csv: 1 empty column\(s\) dropped .*'notes'"):
        data = source(catalog, "csv").load(path=str(path))
    assert data.feature_names == ["a", "b"]
    np.testing.assert_array_equal(data.x, [[1, 2], [3, 4], [5, 6]])
    assert data.schema["dropped_columns"] == ["notes"]
    assert [c["name"] for c in data.schema["columns"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("name", "params", "rank"),
    [
        ("sklearn", {"name": "digits"}, 3),
        ("sklearn", {"name": "digits", "images": False}, 1),
        ("sklearn", {"name": "iris"}, 1),
        ("keras", {"name": "mnist"}, 3),
    ],
)
def test_sources_say_their_rank_without_loading(
    catalog: Any, name: str, params: dict[str, Any], rank: int
) -> None:
    assert source(catalog, name).rank(**params) == rank


def test_npz_rank_is_read_from_the_array_header(catalog: Any, tmp_path: Path) -> None:
    path = tmp_path / "seq.npz"
    np.savez(path, x=np.zeros((5, 7, 3), dtype="float32"), y=np.arange(5) % 2)
    npz = source(catalog, "npz")
    assert npz.rank(path=str(path)) == 2
    assert npz.rank(path=str(path), images=True) == 3  # (N, H, W) grey images get a channel
    assert len(npz.load(path=str(path), images=True).x.shape[1:]) == 3


def test_csv_path_is_relative_to_the_yaml_file(catalog: Any, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "p.csv").write_text(CSV)
    raw = {"data": {"source": {"csv": {"path": "data/p.csv"}}}, "model": "mlp"}
    spec = resolve(RawSpace(raw, source=str(tmp_path / "space.yaml")), catalog)
    assert spec.data.source_params["path"] == str(tmp_path / "data" / "p.csv")
    assert spec.data.task == "binary"  # read from the target column at validation time
    raw["data"]["source"]["csv"]["path"] = "data/nope.csv"
    with pytest.raises(SpecError, match=r"data\.source\.csv: csv file not found: .*nope\.csv"):
        resolve(RawSpace(raw, source=str(tmp_path / "space.yaml")), catalog)


# ---------------------------------------------------------------------------------------- npz
def test_npz_sequences_and_images(catalog: Any, tmp_path: Path) -> None:
    npz = source(catalog, "npz")
    rng = np.random.default_rng(0)
    seq = tmp_path / "seq.npz"
    np.savez(seq, x=rng.normal(size=(30, 12, 3)), y=rng.integers(0, 3, size=(30, 1)))
    data = npz.load(path=str(seq))
    assert data.x.shape == (30, 12, 3) and data.y.shape == (30,)
    assert data.schema["input"] == "sequences (n, timesteps, features)"
    assert npz.task(path=str(seq)) == "multiclass"

    mnist_like = tmp_path / "mnist.npz"
    np.savez(
        mnist_like,
        x_train=np.zeros((20, 6, 6), "uint8"),
        y_train=np.arange(20) % 2,
        x_test=np.zeros((5, 6, 6), "uint8"),
        y_test=np.arange(5) % 2,
    )
    images = npz.load(path=str(mnist_like), images=True)
    assert images.x.shape == (25, 6, 6, 1) and images.x.dtype == np.float32
    assert npz.task(path=str(mnist_like)) == "binary"


def test_npz_errors(catalog: Any, tmp_path: Path) -> None:
    npz = source(catalog, "npz")
    path = tmp_path / "bad.npz"
    np.savez(path, features=np.zeros((4, 2)), y=np.zeros(4))
    with pytest.raises(
        AutoMLError, match=r"expected arrays 'x' and 'y' .* arrays \['features', 'y'\]"
    ):
        npz.load(path=str(path))
    np.savez(path, x=np.zeros((4, 2)), y=np.zeros(3))
    with pytest.raises(AutoMLError, match="x has 4 rows but y has 3"):
        npz.load(path=str(path))
    np.savez(path, x=np.zeros(4), y=np.zeros(4))
    with pytest.raises(AutoMLError, match=r"expected features of shape \(n, \.\.\.\)"):
        npz.load(path=str(path))
    np.savez(path, x=np.zeros((4, 2)), y=np.zeros((4, 2)))
    with pytest.raises(AutoMLError, match=r"expected targets of shape \(n,\)"):
        npz.load(path=str(path))
    with pytest.raises(AutoMLError, match="npz file not found"):
        npz.load(path=str(tmp_path / "none.npz"))


# ------------------------------------------------------------------------------- image folder
def write_png(path: Path, pixels: np.ndarray) -> None:
    import tensorflow as tf

    path.write_bytes(tf.io.encode_png(pixels.astype("uint8")).numpy())


def test_image_folder_resizes_and_labels_by_folder(catalog: Any, tmp_path: Path) -> None:
    for label, colour in (("cats", 30), ("dogs", 220)):
        (tmp_path / label).mkdir()
        for i in range(3):
            write_png(tmp_path / label / f"{i}.png", np.full((10 + i, 7, 3), colour))
    folder = source(catalog, "image_folder")
    data = folder.load(path=str(tmp_path), height=4, width=5, channels=1)
    assert data.x.shape == (6, 4, 5, 1)
    assert data.class_names == ["cats", "dogs"]
    assert list(data.y) == [0, 0, 0, 1, 1, 1]
    np.testing.assert_allclose(data.x[0], 30, atol=1)
    np.testing.assert_allclose(data.x[5], 220, atol=1)
    assert folder.task(path=str(tmp_path)) == "binary"
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(AutoMLError, match=r"broken\.png: cannot decode the image"):
        folder.load(path=str(tmp_path))


def test_image_folder_needs_class_folders(catalog: Any, tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    with pytest.raises(AutoMLError, match=r"one subfolder per class \(at least 2\)"):
        source(catalog, "image_folder").load(path=str(tmp_path))


# -------------------------------------------------------------------------------------- keras
def test_keras_mnist_from_the_keras_cache(
    catalog: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "datasets").mkdir()
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "datasets" / "mnist.npz",
        x_train=rng.integers(0, 256, (12, 28, 28), dtype="uint8"),
        y_train=np.arange(12) % 10,
        x_test=rng.integers(0, 256, (3, 28, 28), dtype="uint8"),
        y_test=np.arange(3),
    )
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    data = source(catalog, "keras").load(name="mnist")
    assert data.x.shape == (15, 28, 28, 1) and data.task == "multiclass"
    assert list(data.y[-3:]) == [0, 1, 2]
    assert source(catalog, "keras").task(name="cifar10") == "multiclass"


@pytest.mark.slow
def test_keras_fashion_mnist_through_keras_own_loader(
    catalog: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keras.datasets.fashion_mnist reads the four idx files from the cache (no download)."""
    import gzip

    folder = tmp_path / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    parts = {"train": 6, "t10k": 2}
    for prefix, n in parts.items():
        labels = (np.arange(n) % 10).astype("uint8")
        images = rng.integers(0, 256, (n, 28, 28), dtype="uint8")
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + labels.tobytes())  # idx header (8 bytes), then labels
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images.tobytes())  # idx header (16 bytes), then pixels
    # Keras reads KERAS_HOME when it is imported: load in a fresh process that has it set
    script = (
        "from automl.plugins import load_catalog;"
        "source = load_catalog(entry_points=False)['data_source'].get('keras');"
        "d = source.load(name='fashion_mnist');"
        "print(d.x.shape, d.x.dtype, d.y.tolist())"
    )
    env = {**os.environ, "KERAS_HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "(8, 28, 28, 1) float32 [0, 1, 2, 3, 4, 5, 0, 1]"
