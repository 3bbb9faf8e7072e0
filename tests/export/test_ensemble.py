"""Greedy ensemble selection (Caruana et al., 2004) and ONE Keras model averaging its members."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, mean_squared_error

from automl.export._ensemble import combine, greedy_selection, scored_rows


class Rmse:
    direction = "minimize"

    def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.sqrt(mean_squared_error(y_true, y_pred)))


def test_greedy_selection_adds_the_member_that_helps_most() -> None:
    y = np.array([0.0, 0.0, 0.0, 0.0])
    a = np.array([1.0, 1.0, -1.0, -1.0])  # errors of a and b cancel: their mean is perfect
    b = np.array([-1.0, -1.0, 1.0, 1.0])
    c = np.array([0.6, 0.6, 0.6, 0.6])  # the best single model (RMSE 0.6 < 1.0)
    counts, history = greedy_selection([a, b, c], y, Rmse(), maximize=False, rounds=4)
    # round 1: c (0.6); round 2: mean(c, a) = [.8, .8, -.2, -.2], RMSE 0.583 (a before b on a
    # tie); round 3 adds b: mean(c, a, b) = 0.2 everywhere; round 4: a again gives
    # [.4, .4, -.1, -.1] (RMSE 0.292), better than c again (0.3) but worse than round 3
    expected = [0.6, np.sqrt((0.64 * 2 + 0.04 * 2) / 4), 0.2, np.sqrt((0.16 * 2 + 0.01 * 2) / 4)]
    assert history == pytest.approx(expected)
    assert counts == [1, 1, 1]  # the best prefix: three rounds (RMSE 0.2)


def test_greedy_selection_skips_rows_without_out_of_fold_predictions() -> None:
    y = np.array([0, 1, 1, 0])
    good = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [np.nan, np.nan]])
    bad = np.array([[0.1, 0.9], [0.8, 0.2], [0.7, 0.3], [0.5, 0.5]])
    assert scored_rows([good, bad]).tolist() == [True, True, True, False]

    class Accuracy:
        def score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
            return float(accuracy_score(y_true, y_pred.argmax(axis=1)))

    counts, history = greedy_selection([bad, good], y, Accuracy(), maximize=True, rounds=3)
    assert counts == [0, 1] and history[0] == 1.0


def _member(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,), name="inputs")
    hidden = keras.layers.Dense(8, activation="relu", name="dense")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="output")(hidden))


@pytest.mark.parametrize("weights", [[1 / 3] * 3, [0.5, 0.3, 0.2]])
def test_combined_model_is_the_weighted_mean_of_its_members(tmp_path, weights) -> None:  # type: ignore[no-untyped-def]
    members = [_member(seed) for seed in range(3)]
    x = np.random.default_rng(0).normal(size=(10, 4)).astype("float32")
    expected = sum(w * m.predict(x, verbose=0) for w, m in zip(weights, members, strict=True))
    model = combine(members, weights)
    model.save(tmp_path / "ensemble.keras")
    reloaded = keras.saving.load_model(tmp_path / "ensemble.keras", safe_mode=True)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), expected, atol=1e-6)
    layer_types = {type(layer).__name__ for layer in reloaded.layers}
    assert ("Average" in layer_types) == (len(set(weights)) == 1)  # Rescaling + Add otherwise


def test_combine_refuses_mismatched_weights() -> None:
    with pytest.raises(ValueError, match="expected one weight per member"):
        combine([_member(0)], [0.5, 0.5])
