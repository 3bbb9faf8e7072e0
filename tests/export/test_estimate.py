"""Honest numbers: the tuned threshold (applied by `predict`), the nested cross-validated
estimate, the test score's bootstrap interval and the gap."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score

import automl
from automl.data import load_partition
from automl.export import export_model
from automl.export._estimate import bootstrap_interval
from automl.spec import open_space
from automl.storage import oof_path
from automl.study import tune

IMBALANCED = """
study: {name: thr, metric: f1, trials: 1, sampler: random, pruner: none, seed: 0}
data:
  source: {sklearn: {name: make_classification, n_samples: 1500, minority: 0.05, seed: 0}}
  folds: 3
  test: 0.3
training: {epochs: 5, batch_size: 32, early_stopping: false}
preprocessors: [standardize]
model: {mlp: {layers: 1, units: 16, dropout: 0.0}}
optimizer: {adam: {learning_rate: 0.01}}
"""


@pytest.fixture(scope="module")
def imbalanced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tuned F1 study on 5% positives, exported: (space file, artifact directory)."""
    root = tmp_path_factory.mktemp("threshold")
    space = root / "space.yaml"
    space.write_text(textwrap.dedent(IMBALANCED).lstrip())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(root / "runs"))
        tune(str(space), progress=False)
        out = export_model(str(space), root / "best")
    return space, out


def test_a_tuned_threshold_beats_one_half_and_predict_applies_it(
    imbalanced: tuple[Path, Path],
) -> None:
    space, out = imbalanced
    card = json.loads((out / "model.json").read_text())
    threshold = card["threshold"]["value"]
    assert threshold < 0.5 and card["threshold"]["score"] > card["threshold"]["score_at_0.5"]
    spec, catalog = open_space(str(space))
    test = load_partition(spec, catalog).test
    model = automl.load(out)
    proba = model.predict_proba(test.x_test)  # raw: no threshold in the probabilities
    labels = model.predict(test.x_test)
    classes = np.asarray(card["class_labels"])
    np.testing.assert_array_equal(labels, classes[(proba[:, 1] >= threshold).astype(int)])
    y = classes[test.y_test]
    tuned = f1_score(y, labels, pos_label=classes[1])
    at_half = f1_score(y, classes[proba.argmax(axis=1)], pos_label=classes[1])
    assert tuned > at_half
    assert card["test_score"] == pytest.approx(tuned)
    assert "Decision threshold" in (out / "MODEL_CARD.md").read_text()


def test_the_estimate_tunes_the_threshold_on_the_other_folds(
    imbalanced: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    space, out = imbalanced
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(space.parent / "runs"))
    card = json.loads((out / "model.json").read_text())
    spec, catalog = open_space(str(space))
    partition = load_partition(spec, catalog)
    oof = np.load(oof_path(spec, card["trial"]))[:, 1]
    expected = []
    for _, val in partition.folds:
        others = np.setdiff1d(np.arange(len(oof)), val)
        # brute force over scikit-learn's grid of 100 thresholds on the other folds' rows
        grid = np.linspace(oof[others].min(), oof[others].max(), 100)
        f1s = [f1_score(partition.y[others], oof[others] >= t) for t in grid]
        expected.append(f1_score(partition.y[val], oof[val] >= grid[int(np.argmax(f1s))]))
    assert card["estimate"]["folds"] == pytest.approx(expected)
    assert card["estimate"]["mean"] == pytest.approx(np.mean(expected))
    assert "threshold tuned on the other folds" in card["estimate"]["method"]
    interval = card["test_interval"]
    assert interval["low"] <= card["test_score"] <= interval["high"]
    assert card["gap"] == pytest.approx(card["estimate"]["mean"] - card["test_score"])


def test_bootstrap_interval_is_seeded(catalog) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    output = np.stack([1 - y * 0.8, y * 0.8], axis=1)
    output[:30] = output[:30, ::-1]  # 30 wrong rows: accuracy 0.85
    metric = catalog["metric"].get("accuracy")
    first = bootstrap_interval(metric, y, output, None, seed=1)
    assert first == bootstrap_interval(metric, y, output, None, seed=1)
    assert first != bootstrap_interval(metric, y, output, None, seed=2)
    assert first["low"] < 0.85 < first["high"]
    assert 0.05 < first["high"] - first["low"] < 0.15  # about 4 standard errors of 0.025


def test_the_exported_threshold_is_the_brute_force_best_on_every_out_of_fold_row(
    imbalanced: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    space, out = imbalanced
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(space.parent / "runs"))
    card = json.loads((out / "model.json").read_text())
    spec, catalog = open_space(str(space))
    partition = load_partition(spec, catalog)
    p = np.load(oof_path(spec, card["trial"]))[:, 1]  # every development row: 3 folds
    # brute force with scikit-learn over the same 100 candidates, on all out-of-fold rows
    grid = np.linspace(p.min(), p.max(), 100)
    f1s = [f1_score(partition.y, p >= t) for t in grid]
    assert card["threshold"]["value"] == pytest.approx(grid[int(np.argmax(f1s))])
    assert card["threshold"]["rows"] == len(partition.x)
    assert card["threshold"]["score"] == pytest.approx(max(f1s))
    assert card["threshold"]["score_at_0.5"] == pytest.approx(f1_score(partition.y, p > 0.5))
    # `automl predict` applies it too: its labels are the thresholded probabilities
    from automl.cli import main

    test = partition.test
    np.savez(tmp_path / "rows.npz", x=test.x_test)
    assert (
        main(["predict", str(out), str(tmp_path / "rows.npz"), "--out", str(tmp_path / "p.npz")])
        == 0
    )
    written = np.load(tmp_path / "p.npz", allow_pickle=False)
    classes = np.asarray(card["class_labels"])
    expected = classes[(written["probabilities"][:, 1] >= card["threshold"]["value"]).astype(int)]
    np.testing.assert_array_equal(written["label"], expected)
    assert (written["label"] != classes[written["probabilities"].argmax(axis=1)]).any()
