"""The example search spaces of the catalogue: each runs 2 trials x 1 epoch end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from automl.spec import RawSpace, read_yaml, resolve
from automl.study import tune

SPACES = Path(__file__).resolve().parents[1] / "search_spaces"


def quick_spec(name: str, catalog: Any) -> Any:
    """The shipped space with 1 epoch; data paths stay relative to the shipped file."""
    path = SPACES / name
    data, lines = read_yaml(path)
    data["training"]["epochs"] = 1
    data["study"]["timeout"] = None
    data["data"]["limit"] = 300  # keep the suite fast (the sequence set has 600 rows)
    data["data"]["folds"] = 1  # one split, also to keep it fast (folds: tests/test_objective.py)
    return resolve(RawSpace(data, lines, str(path)), catalog)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "task", "metric"),
    [
        ("sequence_rnn.yaml", "multiclass", "accuracy"),
        ("tabular_csv.yaml", "binary", "roc_auc"),
        ("imbalanced_focal.yaml", "binary", "f1"),
        ("sentiment.yaml", "binary", "accuracy"),
    ],
)
def test_space_runs_two_trials(catalog: Any, name: str, task: str, metric: str) -> None:
    spec = quick_spec(name, catalog)
    assert spec.data.task == task and spec.study.metric == metric
    result = tune(spec, trials=2, progress=False)
    states = [row["state"] for row in result.leaderboard]
    reasons = [row["reason"] for row in result.leaderboard if row["state"] == "fail"]
    assert states == ["complete", "complete"], reasons
    assert all(0.0 <= row["score"] <= 1.0 for row in result.leaderboard)


def test_sequence_space_searches_lstm_gru_and_cnn1d(catalog: Any) -> None:
    spec = quick_spec("sequence_rnn.yaml", catalog)
    assert [o.name for o in spec.slot("model").options] == ["lstm", "gru", "cnn1d"]


def test_imbalanced_space_searches_focal_vs_crossentropy(catalog: Any) -> None:
    spec = quick_spec("imbalanced_focal.yaml", catalog)
    assert [o.name for o in spec.slot("loss").options] == ["focal", "crossentropy"]
    assert spec.training.class_weight == "balanced"
    source = catalog["data_source"].get("sklearn").load(**spec.data.source_params)
    assert 0.08 < np.mean(source.y == 1) < 0.12


def test_tabular_export_takes_raw_rows(catalog: Any, tmp_path: Path) -> None:
    """The exported model carries impute + one_hot and the column schema; raw CSV rows go in."""
    import automl
    from automl.export import export_model

    spec = quick_spec("tabular_csv.yaml", catalog)
    tune(spec, trials=1, progress=False)
    out = export_model(spec, tmp_path / "best")
    model = automl.load(out)
    schema = model.card["input_schema"]
    assert [c["name"] for c in schema["columns"]] == [
        "age",
        "income",
        "city",
        "plan",
        "tenure_months",
        "support_calls",
    ]
    assert {c["kind"] for c in schema["columns"][2:4]} == {"categorical"}
    rows = [
        ["34", "52000", "oslo", "basic", "3", "4"],
        ["NA", "", "", "pro", "60", "0"],  # missing cells as the CSV writes them
        ["51", "?", "paris", "plus", "12", "1"],  # an unseen city
    ]
    proba = model.predict_proba(rows)
    assert proba.shape == (3, 2) and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert set(model.predict(rows)) <= {"no", "yes"}


@pytest.mark.slow
def test_sales_forecast_space_beats_the_naive_baseline(catalog: Any, tmp_path: Path) -> None:
    """4 trials of the shipped space: the exported model forecasts the held-out last 20% of the
    series better than the last value (naive), on validation and on test."""
    import automl
    from automl.export import export_model
    from automl.forecast import NAIVE

    path = SPACES / "sales_forecast.yaml"
    data, lines = read_yaml(path)
    data["study"]["timeout"] = None
    spec = resolve(RawSpace(data, lines, str(path)), catalog)
    assert (spec.data.task, spec.study.metric) == ("forecast", "mae")
    result = tune(spec, trials=4, progress=False)
    best = result.best_trial
    assert best is not None
    card = automl.load(export_model(spec, tmp_path / "best")).card
    evaluation = card["evaluation"]
    assert evaluation["split"] == "test" and evaluation["rows"] == card["data"]["test_rows"]
    assert card["test_score"] == pytest.approx(evaluation["mae"])
    naive = evaluation["baselines"][NAIVE]["mae"]
    assert naive == pytest.approx(10.37, abs=0.01)  # the last value, on the last 214 days
    assert evaluation["mae"] < naive
    assert evaluation["mase"] < evaluation["baselines"][NAIVE]["mase"]


@pytest.mark.slow
def test_pareto_space_runs_two_objectives(catalog: Any) -> None:
    spec = quick_spec("digits_pareto.yaml", catalog)
    assert spec.study.metrics == ("accuracy", "latency_ms")
    assert [c.metric for c in spec.study.constraints] == ["params"]
    result = tune(spec, trials=2, progress=False)
    rows = result.leaderboard
    assert [r["state"] for r in rows if r["state"] not in ("complete", "infeasible")] == []
    for row in rows:
        assert 0.0 <= row["values"]["accuracy"] <= 1.0
        assert 0.0 < row["values"]["latency_ms"] < 1000.0  # milliseconds, not seconds
    assert {r["trial"] for r in rows if r["rank"] == 1} == {t.number for t in result.pareto_front}
