"""In-memory data: written into the study's folder, read back by the ordinary sources, checked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_iris

import automl
from automl.arrays import InMemoryData, data_space
from automl.data import load_partition
from automl.errors import DataError, SpecError, StudyError
from automl.spec import open_space
from automl.storage import open_study

SPACE = {
    "data": {"folds": 1},
    "model": {"mlp": {"layers": 1, "units": 8}},
    "training": {"epochs": 1},
}
X, Y = load_iris(return_X_y=True)


def _digest(**arrays: np.ndarray) -> str:
    """The content hash as documented: each array's name, dtype, shape, then its bytes."""
    h = hashlib.sha256()
    for key, array in arrays.items():
        h.update(f"{key}:{array.dtype.str}:{array.shape};".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


def test_arrays_become_a_hashed_npz_and_a_space_that_reads_it(runs_dir: Path) -> None:
    path = data_space(SPACE, InMemoryData(x=X, y=Y))
    digest = _digest(x=X, y=Y)
    assert path == runs_dir / f"data-{digest[:8]}" / "space.yaml"
    copied = yaml.safe_load(path.read_text())
    assert copied["data"] == {"folds": 1, "source": {"npz": {"path": f"data/{digest}.npz"}}}
    assert copied["study"] == {"name": f"data-{digest[:8]}"}
    with np.load(path.parent / "data" / f"{digest}.npz") as saved:
        assert sorted(saved.files) == ["x", "y"]
        np.testing.assert_array_equal(saved["x"], X)
        np.testing.assert_array_equal(saved["y"], Y)
    assert data_space(SPACE, InMemoryData(x=X, y=Y)) == path  # same data, same study
    assert data_space(SPACE, InMemoryData(x=X[1:], y=Y[1:])) != path


def test_a_given_validation_split_is_the_fixed_hold_out(runs_dir: Path) -> None:
    space = {**SPACE, "data": {"test": 0}}
    given = InMemoryData(x=X[::2], y=Y[::2], x_val=X[1::2], y_val=Y[1::2])
    spec, catalog = open_space(data_space(space, given))
    split = load_partition(spec, catalog).fold(0)
    np.testing.assert_array_equal(split.x_val, X[1::2].astype("float32"))
    np.testing.assert_array_equal(split.y_val, Y[1::2])
    np.testing.assert_array_equal(split.x_train, X[::2].astype("float32"))
    assert len(split.x_test) == 0


def test_the_test_split_comes_from_the_training_rows_only(runs_dir: Path) -> None:
    given = InMemoryData(x=X[:120], y=Y[:120], x_val=X[120:], y_val=Y[120:])
    spec, catalog = open_space(data_space({**SPACE, "data": {"test": 0.25}}, given))
    split = load_partition(spec, catalog).fold(0)
    assert (len(split.x_train), len(split.x_val), len(split.x_test)) == (90, 30, 30)
    np.testing.assert_array_equal(split.x_val, X[120:].astype("float32"))
    rows = {tuple(r) for r in X[:120].astype("float32")}
    assert all(tuple(r) in rows for r in split.x_test)


def test_a_fixed_validation_split_cannot_be_cross_validated(runs_dir: Path) -> None:
    given = InMemoryData(x=X[:120], y=Y[:120], x_val=X[120:], y_val=Y[120:])
    spec, catalog = open_space(data_space({**SPACE, "data": {"folds": 3}}, given))
    with pytest.raises(automl.AutoMLError, match=r"cannot be cross-validated.*folds=3"):
        load_partition(spec, catalog)


def test_a_dataframe_becomes_csv_files_with_its_columns(runs_dir: Path) -> None:
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["colour"] = np.where(X[:, 0] > 5.8, "red", None)
    frame["kind"] = np.array(["setosa", "versicolor", "virginica"])[Y]
    train, val = frame.iloc[:100], frame.iloc[100:]
    path = data_space(
        {**SPACE, "preprocessors": ["impute", "one_hot"], "data": {"test": 0}},
        InMemoryData(data=train, x_val=val, target="kind"),
    )
    source = yaml.safe_load(path.read_text())["data"]["source"]["csv"]
    assert source["target"] == "kind"
    assert source["validation_path"] == source["path"].replace(".csv", ".val.csv")
    spec, catalog = open_space(path)
    split = load_partition(spec, catalog).fold(0)
    assert split.feature_names == ["a", "b", "c", "d", "colour"]
    assert split.class_names == ["setosa", "versicolor", "virginica"]
    assert len(split.x_train) == 100
    assert list(split.x_val[:, 4]) == ["red" if v > 5.8 else "" for v in X[100:, 0]]
    np.testing.assert_array_equal(split.y_val, Y[100:])


def test_x_as_a_dataframe_and_y_as_a_series_are_joined(runs_dir: Path) -> None:
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    path = data_space(SPACE, InMemoryData(x=frame, y=pd.Series(Y, name="a")))
    source = yaml.safe_load(path.read_text())["data"]["source"]["csv"]
    assert source["target"] == "a_"  # the Series' name, made unique
    header = (path.parent / source["path"]).read_text().splitlines()[0]
    assert header == "a,b,c,d,a_"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (InMemoryData(x=X), r"needs both x and y.*y=None"),
        (InMemoryData(x=X, y=Y[:-1]), r"y must have one target per row of x: shape \(150,\)"),
        (InMemoryData(x=X[:, 0], y=Y), r"x must have shape \(rows, features...\).*\(150,\)"),
        (InMemoryData(x=X.astype(str), y=Y), r"x must hold numbers.*DataFrame.*dtype=<U32"),
        (InMemoryData(x=X, y=Y, x_val=X), r"needs both x_val and y_val.*y_val=None"),
        (InMemoryData(x=X, y=Y, x_val=X[:, :2], y_val=Y), r"x_val rows must have the shape"),
        (
            InMemoryData(data=pd.DataFrame({"a": [1, 2]}), target="b"),
            r"target=, the name of its target column\. Columns: a\. Received: target='b'",
        ),
        (InMemoryData(x=X, y=np.array([None, *Y[1:]], dtype=object)), r"1 missing targets"),
    ],
)
def test_bad_data_is_a_clear_error(given: InMemoryData, message: str) -> None:
    with pytest.raises(DataError, match=message):
        data_space(SPACE, given)


def test_a_space_with_its_own_source_is_refused_at_its_line(write_space) -> None:
    path = write_space("study: {trials: 1}\ndata:\n  source: {sklearn: {name: iris}}\nmodel: mlp\n")
    with pytest.raises(
        SpecError, match=r"(?s)space.yaml: .*line 3: data.source: the data was given"
    ):
        data_space(path, InMemoryData(x=X, y=Y))


def test_problems_of_the_space_name_the_file_given_and_its_lines(write_space) -> None:
    path = write_space("study: {trials: 1}\nmodel:\n  mlp: {unitz: 8}\n")
    with pytest.raises(SpecError, match=r"(?s)space.yaml: 1 problem.*line 3: model.mlp.unitz"):
        data_space(path, InMemoryData(x=X, y=Y))
    with pytest.raises(SpecError, match=r"study.name: expected a name of letters"):
        data_space({**SPACE, "study": {"name": "../x"}}, InMemoryData(x=X, y=Y))


def test_a_named_study_refuses_other_data_as_a_changed_space(runs_dir: Path) -> None:
    named = {**SPACE, "study": {"name": "named"}}
    first = data_space(named, InMemoryData(x=X, y=Y))
    open_study(open_space(first)[0])
    second = data_space(named, InMemoryData(x=X[:100], y=Y[:100]))
    assert second == first == runs_dir / "named" / "space.yaml"
    with pytest.raises(StudyError, match=r"data.source.npz.path: was .*, now "):
        open_study(open_space(second)[0])


def test_tune_on_arrays_resumes_and_exports(runs_dir: Path, tmp_path: Path) -> None:
    result = automl.tune(SPACE, x=X, y=Y, trials=2, progress=False)
    assert [row["state"] for row in result.leaderboard] == ["complete", "complete"]
    again = automl.tune(SPACE, x=X, y=Y, trials=2, progress=False)
    assert again.spec.study.name == result.spec.study.name
    assert len(again.study.trials) == 2  # resumed: the budget was spent, no new trial
    out = again.export(tmp_path / "best")
    loaded = automl.load(out)
    assert loaded.predict(X[:5]).shape == (5,)
    assert set(loaded.class_labels) == {"0", "1", "2"}


@pytest.mark.slow
def test_arrays_reach_worker_processes_and_isolated_trials(runs_dir: Path) -> None:
    space = {**SPACE, "study": {"isolation": "process"}}
    result = automl.tune(space, x=X, y=Y, trials=2, jobs=2, progress=False)
    assert sorted(row["state"] for row in result.leaderboard) == ["complete", "complete"]
    assert result.spec.path == str(runs_dir / result.spec.study.name / "space.yaml")


def test_a_yaml_space_keeps_its_plugins_and_names_the_study_after_the_file(
    write_space, tmp_path: Path
) -> None:
    (tmp_path / "local_plugin.py").write_text("")  # a local plugin file (that registers nothing)
    path = write_space("plugins: [local_plugin.py]\nmodel: mlp\n", name="iris.yaml")
    copy = data_space(path, InMemoryData(x=X, y=Y), plugins=("automl_plugins.metrics",))
    saved = yaml.safe_load(copy.read_text())
    assert saved["plugins"] == [str(tmp_path / "local_plugin.py")]  # absolute: the copy moved
    assert saved["study"]["name"] == f"iris-{_digest(x=X, y=Y)[:8]}"
    assert copy.read_text().startswith(f"# written by automl.tune() from {path}: the data is in")
