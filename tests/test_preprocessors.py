"""Preprocessors against scikit-learn: fitted on the training split, applied as Keras layers."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from automl.trial import as_float_inputs


def fitted(catalog: Any, name: str, x_train: np.ndarray, **params: Any) -> keras.layers.Layer:
    pre = catalog["preprocessor"].get(name)
    return pre.build(x_train, **{**pre.defaults(), **params})


def apply(layer: keras.layers.Layer, x: np.ndarray, **kw: Any) -> np.ndarray:
    return keras.ops.convert_to_numpy(layer(as_float_inputs(x), **kw))


def train_val(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scale = np.array([1.0, 10.0, 0.1, 5.0])
    # validation deliberately from another distribution: statistics must come from train only
    return (rng.normal(2.0, 1.0, (40, 4)) * scale).astype("float32"), (
        rng.normal(-1.0, 3.0, (10, 4)) * scale
    ).astype("float32")


@pytest.mark.parametrize(
    ("name", "reference"), [("standardize", StandardScaler), ("min_max", MinMaxScaler)]
)
def test_scalers_match_scikit_learn(catalog: Any, name: str, reference: Any) -> None:
    x_train, x_val = train_val()
    layer = fitted(catalog, name, x_train)
    expected = reference().fit(x_train).transform(x_val)
    np.testing.assert_allclose(apply(layer, x_val), expected, rtol=1e-4, atol=1e-4)


def test_standardize_images_per_channel(catalog: Any) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4, 4, 2)).astype("float32") * [1.0, 7.0] + [0.0, 3.0]
    out = apply(fitted(catalog, "standardize", x), x)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-3)


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent"])
def test_impute_numbers_matches_scikit_learn(catalog: Any, strategy: str) -> None:
    x_train, x_val = train_val()
    x_train = np.round(x_train)
    x_train[::3, 0] = np.nan
    x_train[1::4, 2] = np.nan
    x_val[::2, :] = np.nan
    layer = fitted(catalog, "impute", x_train, strategy=strategy)
    expected = SimpleImputer(strategy=strategy).fit(x_train).transform(x_val)
    np.testing.assert_allclose(apply(layer, x_val), expected, rtol=1e-5)


TEXT_TRAIN = np.array(
    [["1", "red", "10"], ["", "blue", "20"], ["3", "red", ""], ["5", "", "40"], ["3", "red", "30"]],
    dtype=object,
)


def test_impute_and_one_hot_on_text_columns_match_scikit_learn(catalog: Any) -> None:
    impute = fitted(catalog, "impute", TEXT_TRAIN, strategy="median")
    filled = apply(impute, TEXT_TRAIN).astype(str)
    assert filled[1, 0] == "3.0" and filled[3, 1] == "red" and filled[2, 2] == "25.0"
    encode = fitted(catalog, "one_hot", filled)
    x_new = np.array([["2", "blue", "15"], ["", "green", ""]], dtype=object)
    out = apply(encode, apply(impute, x_new).astype(str))
    numeric = SimpleImputer(strategy="median").fit(
        np.where(TEXT_TRAIN[:, [0, 2]] == "", np.nan, TEXT_TRAIN[:, [0, 2]]).astype(float)
    )
    onehot = OneHotEncoder(handle_unknown="ignore").fit(filled[:, [1]])
    x_num = numeric.transform(
        np.where(x_new[:, [0, 2]] == "", np.nan, x_new[:, [0, 2]]).astype(float)
    )
    expected = np.column_stack(
        [x_num[:, 0], onehot.transform(x_new[:, [1]]).toarray(), x_num[:, 1]]
    )
    np.testing.assert_allclose(out, expected)  # unknown 'green' -> all zeros


def test_one_hot_on_numeric_integer_columns(catalog: Any) -> None:
    x = np.array([[0, 1.5], [2, 2.5], [1, 3.5], [2, 0.5]], dtype="float32")
    out = apply(fitted(catalog, "one_hot", x, max_categories=3), x)
    expected = np.column_stack([OneHotEncoder().fit_transform(x[:, [0]]).toarray(), x[:, 1]])
    np.testing.assert_allclose(out, expected)


def test_pca_matches_scikit_learn(catalog: Any) -> None:
    x_train, x_val = train_val()
    layer = fitted(catalog, "pca", x_train, components=2)
    expected = PCA(n_components=2, svd_solver="full").fit(x_train).transform(x_val)
    np.testing.assert_allclose(apply(layer, x_val), expected, rtol=1e-3, atol=1e-3)
    images = np.random.default_rng(0).normal(size=(30, 3, 3, 1)).astype("float32")
    capped = fitted(catalog, "pca", images, components=32)  # at most the 9 features
    assert apply(capped, images).shape == (30, 9)


def test_rescale(catalog: Any) -> None:
    x = np.array([[0.0, 255.0]], dtype="float32")
    np.testing.assert_allclose(apply(fitted(catalog, "rescale", x), x), [[0.0, 1.0]], atol=1e-6)
    layer = fitted(catalog, "rescale", x, scale=2.0, offset=-1.0)
    np.testing.assert_allclose(apply(layer, x), [[-1.0, 509.0]])


def test_augment_is_active_in_training_only(catalog: Any) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(8, 12, 12, 1)).astype("float32")
    layer = fitted(catalog, "augment", x, flip="horizontal_and_vertical", rotation=0.1)
    np.testing.assert_array_equal(apply(layer, x, training=False), x)
    assert not np.allclose(apply(layer, x, training=True), x)
    inputs = keras.Input((12, 12, 1))
    model = keras.Model(inputs, layer(inputs))
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)  # inference: identity


@pytest.mark.parametrize(
    ("name", "x", "message"),
    [
        ("standardize", np.array([[1.0, np.nan], [2.0, 3.0]]), r"missing values \(NaN\).*impute"),
        ("min_max", TEXT_TRAIN, r"text \(categorical\) columns: put `one_hot` before min_max"),
        ("pca", np.array([[np.nan, 1.0], [2.0, 3.0]]), "put `impute` before pca"),
        ("one_hot", np.zeros((4, 3, 3, 1)), r"tabular data of shape \(rows, columns\)"),
        ("augment", np.zeros((4, 3)), r"augment needs images .* Received: input shape=\(3,\)"),
    ],
)
def test_clear_errors(catalog: Any, name: str, x: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fitted(catalog, name, x)


def test_text_inputs_without_one_hot_fail_the_trial_with_a_hint(catalog: Any) -> None:
    from automl.data import Splits
    from automl.errors import TrialFailed
    from automl.space import Chosen, TrialConfig
    from automl.trial import build_model

    x = TEXT_TRAIN.astype(str)
    splits = Splits(x, np.arange(5) % 2, x, np.arange(5) % 2, x[:0], x[:0], "binary", ["0", "1"])
    config = TrialConfig(
        epochs=1,
        batch_size=4,
        preprocessors=(Chosen("impute", {"strategy": "mean"}),),
        model=Chosen("mlp", {"layers": 1, "units": 4, "dropout": 0.0}),
        loss=Chosen("crossentropy", {"label_smoothing": 0.0}),
        optimizer=Chosen("adam", catalog["optimizer"].get("adam").defaults()),
        activation=Chosen("relu"),
    )
    with pytest.raises(TrialFailed, match=r"still text .* add `one_hot`.*\['impute'\]"):
        build_model(config, splits, catalog)
