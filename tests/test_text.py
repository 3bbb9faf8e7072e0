"""Text in (plugins/text.py and the csv source's `text` columns): sources, vectorization, validate.

Real files, real Keras layers: the vocabulary of `text_vectorization` is compared with the words
of the training split computed here in Python; the folder source with the files the test wrote.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from automl.data import Splits
from automl.errors import DataError, SpecError, TrialFailed
from automl.space import TrialConfig
from automl.spec import load_spec
from automl.testing import check_component
from automl.trial import build_model, run_trial

REPO = Path(__file__).resolve().parents[1]
SENTIMENT = REPO / "search_spaces" / "data" / "sentiment.csv"


def csv_source(**params: Any) -> dict[str, Any]:
    return {"source": {"csv": {"path": str(SENTIMENT), "target": "sentiment", **params}}}


def config(catalog: Any, model: str, **vectorization: Any) -> TrialConfig:
    """A trial configuration: text_vectorization (defaults + `vectorization`) then `model`."""

    def chosen(kind: str, name: str, **params: Any) -> dict[str, Any]:
        return {"name": name, "params": {**catalog[kind].get(name).defaults(), **params}}

    small = {"embedding_dim": 8} if catalog["model_family"].get(model).takes_tokens else {}
    return TrialConfig.from_json(
        {
            "epochs": 2,
            "batch_size": 8,
            "preprocessors": [chosen("preprocessor", "text_vectorization", **vectorization)],
            "model": chosen("model_family", model, **small),
            "activation": chosen("activation", "relu"),
            "loss": chosen("loss", "crossentropy"),
            "optimizer": chosen("optimizer", "adam", learning_rate=0.01),
            "regularizers": [],
        }
    )


def text_splits(train: list[str], val: list[str]) -> Splits:
    """(rows, 1) string matrices; label 1 when the text says good."""

    def labels(texts: list[str]) -> np.ndarray:
        return np.asarray(["good" in t for t in texts], dtype="int64")

    x_train = np.asarray([[t] for t in train], dtype=object)
    x_val = np.asarray([[t] for t in val], dtype=object)
    y_train, y_val = labels(train), labels(val)
    return Splits(x_train, y_train, x_val, y_val, x_val[:0], y_val[:0], "binary", ["bad", "good"])


VECTORS = {"preprocessors": [{"text_vectorization": {"output_mode": "tf_idf"}}]}
TRAIN = ["A good film!", "A bad film.", "Good, GOOD soup", "bad soup", "the film was good"] * 2
VAL = ["A zebra film", "good zebra", "bad soup"]


# ------------------------------------------------------------------------- text_vectorization
def test_vectorization_adapts_on_the_training_split_only(catalog: Any) -> None:
    """The vocabulary is the training split's words; a word seen only in validation is OOV."""
    splits = text_splits(TRAIN, VAL)
    model = build_model(config(catalog, "embedding_bag"), splits, catalog)
    (layer,) = [la for la in model.layers if type(la).__name__ == "TextVectorizer"]
    words = {w for t in TRAIN for w in re.sub(r"[^\w\s]", "", t.lower()).split()}
    assert set(layer.get_vocabulary()) == {"", "[UNK]"} | words
    assert "zebra" not in layer.get_vocabulary()
    ids = np.asarray(layer(np.asarray([["zebra film"]], dtype=object)))
    film = layer.get_vocabulary().index("film")
    assert ids[0, :3].tolist() == [1, film, 0]  # [UNK], film, padding
    embedding = next(la for la in model.layers if type(la).__name__ == "Embedding")
    assert embedding.input_dim == layer.vocabulary_size() == len(words) + 2


def test_vectorization_joins_several_text_columns(catalog: Any) -> None:
    """Two text columns give the token ids of their cells joined by a space."""
    pre = catalog["preprocessor"].get("text_vectorization")
    params = {**pre.defaults(), "sequence_length": 6, "max_tokens": 100}
    columns = np.asarray([["good film", "not bad"], ["bad soup", ""]], dtype=object)
    joined = np.asarray([["good film not bad"], ["bad soup "]], dtype=object)
    layer, reference = pre.build(columns, **params), pre.build(joined, **params)
    assert layer.get_vocabulary() == reference.get_vocabulary()
    np.testing.assert_array_equal(np.asarray(layer(columns)), np.asarray(reference(joined)))


def test_vectorization_of_numbers_is_an_error(catalog: Any) -> None:
    pre = catalog["preprocessor"].get("text_vectorization")
    with pytest.raises(ValueError, match=r"text_vectorization needs text columns \(strings\)"):
        pre.build(np.zeros((4, 3), "float32"), **pre.defaults())


@pytest.mark.parametrize("mode", ["multi_hot", "tf_idf"])
def test_mlp_trains_on_one_vector_per_row(catalog: Any, mode: str) -> None:
    splits = text_splits(TRAIN, VAL)
    cfg = config(catalog, "mlp", output_mode=mode, ngrams=2)
    model = build_model(cfg, splits, catalog)
    (layer,) = [la for la in model.layers if type(la).__name__ == "TextVectorizer"]
    # one input per n-gram of the vocabulary (the OOV bucket included, no padding)
    dense = next(la for la in model.layers if type(la).__name__ == "Dense")
    assert dense.kernel.shape[0] == layer.vocabulary_size()
    assert "good film" in layer.get_vocabulary()  # ngrams 2: word pairs too
    space = {"data": csv_source(text=["review"]), "preprocessors": ["text_vectorization"]}
    spec = load_spec({**space, "model": "mlp"}, catalog=catalog)
    result = run_trial(cfg, spec, splits, catalog)
    assert 0.0 <= result.score <= 1.0


def test_token_ids_into_a_numeric_family_fail_the_trial_clearly(catalog: Any) -> None:
    splits = text_splits(TRAIN, VAL)
    with pytest.raises(
        TrialFailed,
        match=r"the inputs are token ids and mlp does not take them: use a family that does "
        r"\(embedding_bag, embedding_cnn, embedding_rnn, transformer\), or one vector per row",
    ):
        build_model(config(catalog, "mlp"), splits, catalog)


# ------------------------------------------------------------------------------ the csv source
def test_csv_text_columns_are_raw_strings_and_the_only_features(
    catalog: Any, tmp_path: Path
) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(
        "id,title,review,stars\n1,Nice,A good film.,5\n2,NA,Not good at all,1\n3,Meh,,2\n"
    )
    csv = catalog["data_source"].get("csv")
    data = csv.load(path=str(path), target="stars", text=["review", "title"])
    assert data.x.dtype == object
    assert data.x.tolist() == [["A good film.", "Nice"], ["Not good at all", ""], ["", "Meh"]]
    assert data.feature_names == ["review", "title"]
    assert data.schema["ignored"] == ["id"]
    assert data.schema["kind"] == "text"
    assert [(c["name"], c["kind"], c["missing"]) for c in data.schema["columns"]] == [
        ("review", "text", 1),
        ("title", "text", 1),
    ]
    assert csv.text_columns(path=str(path), target="stars", text=["review"]) == ("review",)


def test_csv_without_text_keeps_the_hash_of_older_studies(catalog: Any) -> None:
    """`text` is left out of the canonical space when empty: tabular studies resume."""
    spec = load_spec(REPO / "search_spaces" / "tabular_csv.yaml", catalog=catalog)
    assert sorted(spec.space["data"]["source"]["csv"]) == [
        "delimiter",
        "encoding",
        "header",
        "path",
        "target",
        "validation_path",
    ]  # no `text`
    text = load_spec(
        {"data": csv_source(text=["review"]), "model": "mlp", **VECTORS}, catalog=catalog
    )
    assert text.space["data"]["source"]["csv"]["text"] == ["review"]


def test_csv_text_column_errors(catalog: Any) -> None:
    csv = catalog["data_source"].get("csv")
    with pytest.raises(DataError, match=r"no text column 'reveiw'; did you mean 'review'\?"):
        csv.load(path=str(SENTIMENT), text=["reveiw"])
    with pytest.raises(DataError, match=r"the target column 'sentiment' cannot also be a text"):
        csv.load(path=str(SENTIMENT), target="sentiment", text=["sentiment"])


def test_undeclared_free_text_is_a_validate_error(catalog: Any) -> None:
    """The issue's first failure: each review one-hot encoded as its own category."""
    with pytest.raises(
        SpecError,
        match=r"column 'review' looks like free text \(2942 distinct values in 3000 rows, 6 "
        r"words per cell\); one-hot encoding would make each sentence its own category\. "
        r"Declare it as text \(csv: \{\.\.\., text: \[review\]\}\)",
    ):
        load_spec({"data": csv_source(), "model": "lstm"}, catalog=catalog)


def test_text_columns_need_a_text_preprocessor(catalog: Any) -> None:
    space = {"data": csv_source(text=["review"]), "preprocessors": ["one_hot"], "model": "mlp"}
    with pytest.raises(
        SpecError,
        match=r"preprocessors: the data has text columns \(review\), which need a text "
        r"preprocessor to become numbers: add one to `preprocessors` \(available: "
        r"text_vectorization\), e\.g\. preprocessors: \[text_vectorization\]",
    ):
        load_spec(space, catalog=catalog)
    chosen = {**space, "preprocessors": [{"text_vectorization": {}, "one_hot": {}}]}
    with pytest.raises(SpecError, match=r"the data has text columns \(review\)"):
        load_spec(chosen, catalog=catalog)  # a choice that may leave the text unencoded


def test_token_families_need_a_text_preprocessor(catalog: Any) -> None:
    space = {"data": {"source": {"sklearn": {"name": "iris"}}}, "model": "transformer"}
    with pytest.raises(
        SpecError,
        match=r"model family 'transformer' takes token ids from a text preprocessor; add one "
        r"to `preprocessors` \(available: text_vectorization\)",
    ):
        load_spec(space, catalog=catalog)


def test_every_token_family_validates_with_default_ranges(catalog: Any) -> None:
    families = [f.name for f in catalog["model_family"] if f.takes_tokens]
    assert families == ["embedding_bag", "embedding_cnn", "embedding_rnn", "transformer"]
    space = {
        "data": csv_source(text=["review"]),
        "preprocessors": [{"text_vectorization": {}}],
        "model": {name: {} for name in families},
    }
    spec = load_spec(space, catalog=catalog)
    assert spec.data.task == "binary"
    assert [o.name for o in spec.slot("model").options] == families


# ---------------------------------------------------------------------- the text_folder source
def write_folder(root: Path, texts: dict[str, list[str]]) -> Path:
    for label, items in texts.items():
        (root / label).mkdir(parents=True)
        for i, text in enumerate(items):
            (root / label / f"{i}.txt").write_text(text, encoding="utf-8")
    (root / "neg" / "notes.md").write_text("not a .txt file: skipped")
    return root


def test_text_folder_reads_one_example_per_txt_file(catalog: Any, tmp_path: Path) -> None:
    texts = {"neg": ["Awful.", "Dull, \u00e9vidamment."], "pos": ["Great!", "Fine", "Superb"]}
    root = write_folder(tmp_path / "reviews", texts)
    folder = catalog["data_source"].get("text_folder")
    data = folder.load(path=str(root))
    pairs = sorted(zip(data.x[:, 0].tolist(), data.y.tolist(), strict=True))
    expected = sorted((t, label) for label, items in texts.items() for t in items)
    assert pairs == expected
    assert data.x.shape == (5, 1) and data.class_names == ["neg", "pos"]
    assert folder.task(path=str(root)) == "binary"
    assert folder.text_columns(path=str(root)) == ("text",)
    check_component(folder, data_params={"path": str(root)})


def test_text_folder_errors(catalog: Any, tmp_path: Path) -> None:
    folder = catalog["data_source"].get("text_folder")
    with pytest.raises(
        DataError, match=r"expected one subfolder of \.txt files per class \(at least 2\)"
    ):
        folder.task(path=str(write_folder(tmp_path / "one", {"neg": ["x"]})))
    root = write_folder(tmp_path / "two", {"neg": ["x"], "pos": []})
    with pytest.raises(DataError, match=r"pos: no \.txt files \(each class needs some\)"):
        folder.load(path=str(root))
    with pytest.raises(DataError, match=r"text_folder folder not found: .*missing \(relative"):
        folder.load(path=str(tmp_path / "missing"))
    with pytest.raises(DataError, match=r"the text_folder data source expected a folder, got a"):
        folder.task(path=str(SENTIMENT))


# ----------------------------------------------------------------------------- other backends
@pytest.mark.slow
def test_other_backends_refuse_text_clearly(tmp_path: Path) -> None:
    """JAX has no string tensors: `automl tune` stops before the first trial, saying so."""
    pytest.importorskip("jax")
    space = tmp_path / "space.yaml"
    space.write_text(
        f"data: {{source: {{csv: {{path: {SENTIMENT}, target: sentiment, text: [review]}}}}}}\n"
        "preprocessors: [text_vectorization]\nmodel: embedding_bag\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "AUTOML_RUNS_DIR": str(tmp_path / "runs")}
    cli = [sys.executable, "-m", "automl.cli", "tune", str(space)]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "sentiment.csv: text needs string tensors, which only the TensorFlow backend" in (
        done.stderr
    )
    assert "Received: backend='jax'" in done.stderr
