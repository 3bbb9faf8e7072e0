"""Bad data: refused by `automl validate` (which loads the data) before any training, naming
the file and, where it applies, the line or the columns."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from badinput_util import Case, Outcome, check

CSV_SPACE = """
study: {{name: data, trials: 1}}
data:
  source: {{csv: {{path: {file}{options}}}}}
  validation: 0.25
  test: 0.25{task}
{extra}
model: {{mlp: {{}}}}
"""
NPZ_SPACE = """
study: {{name: data, trials: 1}}
data:
  source: {{npz: {{path: {file}}}}}
model: {{mlp: {{}}}}
"""
IMAGES_SPACE = """
study: {{name: data, trials: 1}}
data:
  source: {{image_folder: {{path: {file}, height: 4, width: 4}}}}
model: {{cnn: {{}}}}
"""
ROWS = "".join(f"{i},{i % 3 + 0.5},{'yes' if i % 2 else 'no'}\n" for i in range(20))


def csv_case(
    id: str,
    content: str | bytes,
    place: str,
    says: str,
    options: str = "",
    extra: str = "",
    file: str = "data.csv",
    task: str = "",
) -> Case:
    space = CSV_SPACE.format(file=file, options=options, extra=extra, task=task)
    return Case(
        id, ("validate", "space.yaml"), 5, place, says, {"space.yaml": space, file: content}
    )


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def npz_case(id: str, content: bytes, says: str) -> Case:
    files = {"space.yaml": NPZ_SPACE.format(file="data.npz"), "data.npz": content}
    return Case(id, ("validate", "space.yaml"), 5, "data.npz", says, files)


X = np.arange(40, dtype="float32").reshape(20, 2)
Y = np.arange(20) % 2

CASES = [
    csv_case(
        "csv_one_class",
        "a,b,label\n" + "".join(f"{i},{i},yes\n" for i in range(20)),
        "data.csv",
        r"needs at least 2 classes in the target. Received: only \['yes'\]",
    ),
    csv_case(
        "csv_header_is_data",
        ROWS.replace("yes", "1").replace("no", "0"),
        "data.csv",
        r"the first line looks like data, not a header.*`header: false`",
    ),
    csv_case(
        "csv_not_utf8",
        b"a,b,label\n1,2,yes\n3,caf\xe9,no\n",
        "data.csv, line 3",
        r"expected text in utf-8, got the byte 0xe9.*encoding: latin-1",
    ),
    csv_case(
        "csv_unknown_encoding",
        "a,b,label\n1,2,yes\n",
        "data.csv",
        r"unknown text encoding.*Received: encoding='klingon'",
        options=", encoding: klingon",
    ),
    Case(
        "csv_path_is_a_folder",
        ("validate", "space.yaml"),
        5,
        "data.csv",
        r"expected a file, got a folder",
        {
            "space.yaml": CSV_SPACE.format(file="data.csv", options="", extra="", task=""),
            "data.csv/x": "",
        },
    ),
    Case(
        "csv_missing",
        ("validate", "space.yaml"),
        5,
        "nope.csv",
        r"csv file not found.*relative to the YAML file",
        {"space.yaml": CSV_SPACE.format(file="nope.csv", options="", extra="", task="")},
    ),
    csv_case("csv_ragged", "a,b,label\n1,2,yes\n3,no\n", "data.csv", r"line 3 has 2 fields"),
    csv_case(
        "csv_missing_target",
        "a,b,label\n1,2,yes\n3,4,\n5,6,no\n",
        "data.csv",
        r"the target column has 1 missing values \(first on data row 2\)",
    ),
    csv_case(
        "csv_unknown_target",
        "a,b,label\n1,2,yes\n",
        "data.csv",
        r"no target column 'labl'; did you mean 'label'",
        options=", target: labl",
    ),
    csv_case("csv_one_column", "label\nyes\nno\n", "data.csv", r"at least 2 columns"),
    csv_case("csv_empty", "", "data.csv", r"at least one data row"),
    csv_case("csv_header_only", "a,b,label\n", "data.csv", r"at least one data row"),
    csv_case(
        "csv_duplicate_column",
        "a,a,label\n" + ROWS,
        "data.csv",
        r"names a column twice: a",
    ),
    csv_case(
        "csv_every_feature_empty",
        "a,b,label\n" + "".join(f",NA,{'yes' if i % 2 else 'no'}\n" for i in range(20)),
        "data.csv",
        r"every feature column is empty",
    ),
    csv_case(
        "csv_nan_without_impute",
        "a,b,label\n" + ROWS.replace("3,0.5", "3,NA", 1).replace("6,0.5", "6,", 1),
        "data.csv",
        r"missing values \(NaN\) in 'b' \(2 rows\).*\(impute\)",
    ),
    csv_case(
        "csv_inf",
        "a,b,label\n" + ROWS.replace("4,1.5", "inf,1.5", 1),
        "data.csv",
        r"infinite values \(inf\) in 'a' \(1 row\)",
        extra="preprocessors: [impute]",
    ),
    csv_case(
        "csv_a_class_too_small_to_split",
        "a,b,label\n" + "".join(f"{i},{i},{'rare' if i == 0 else 'common'}\n" for i in range(20)),
        "csv:data.csv",
        r"cannot split 20 rows.*data.stratify: false.*Rows per class: \{'common': 19, 'rare': 1\}",
    ),
    csv_case(
        "csv_regression_of_text",
        "a,b,label\n" + ROWS,
        "csv:data.csv",
        r"regression targets must be numbers",
        task="\n  task: regression",
    ),
    npz_case(
        "npz_object_array",
        npz_bytes(x=np.array([[1, "a"], [2, None]], dtype=object), y=np.array([0, 1])),
        r"holds Python objects \(dtype=object\).*refused",
    ),
    npz_case("npz_not_a_zip", b"x,y\n1,2\n", r"expected an \.npz file"),
    npz_case("npz_missing_arrays", npz_bytes(a=X, b=Y), r"expected arrays 'x' and 'y'"),
    npz_case("npz_length_mismatch", npz_bytes(x=X, y=Y[:19]), r"x has 20 rows but y has 19"),
    npz_case(
        "npz_targets_with_nan",
        npz_bytes(x=X, y=np.where(Y == 1, np.nan, 0.0)),
        r"the targets \(y\) have 10 missing values \(NaN\)",
    ),
    npz_case(
        "npz_targets_of_two_axes",
        npz_bytes(x=X, y=np.zeros((20, 3))),
        r"expected targets of shape \(n,\). Received: shape=\(20, 3\)",
    ),
    Case(
        "image_folder_one_class",
        ("validate", "space.yaml"),
        5,
        "images",
        r"expected one subfolder per class \(at least 2\)",
        {"space.yaml": IMAGES_SPACE.format(file="images"), "images/cats/a.png": b""},
    ),
    Case(
        "image_folder_is_a_file",
        ("validate", "space.yaml"),
        5,
        "images",
        r"expected a folder, got a file",
        {"space.yaml": IMAGES_SPACE.format(file="images"), "images": "x"},
    ),
    Case(
        "image_folder_broken_image",
        ("validate", "space.yaml"),
        5,
        "a.png",
        r"cannot decode the image: Unknown image file format",
        {
            "space.yaml": IMAGES_SPACE.format(file="images"),
            "images/cats/a.png": b"not a png",
            "images/dogs/b.png": b"not a png",
        },
    ),
    Case(
        "sklearn_limit_too_small_to_stratify",
        ("validate", "space.yaml"),
        5,
        "sklearn:iris",
        r"cannot split",
        {"space.yaml": "data: {source: {sklearn: {name: iris}}, limit: 4}\nmodel: {mlp: {}}\n"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_data_is_refused_before_training_naming_the_place(
    case: Case, run_automl: Callable[[Case], Outcome]
) -> None:
    check(case, run_automl(case))
