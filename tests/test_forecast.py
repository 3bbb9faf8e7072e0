"""Forecasting in the core: the naive baselines, the forecast head, the baselines' printout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from automl.data import Splits
from automl.errors import InputError
from automl.forecast import baseline_text, errors, naive_forecasts, seasonal_weights
from automl.space import TrialConfig
from automl.spec import load_spec
from automl.trial import build_model, predict_output

SCHEMA = {"window": 4, "columns": ["temp", "sales"], "target_index": 1, "horizon": 3, "period": 2}


def test_naive_and_seasonal_naive_by_hand() -> None:
    # one window of 4 rows (temp, sales); the last observed sales value is 13
    x = np.array([[[0.5, 10.0], [0.6, 11.0], [0.7, 12.0], [0.8, 13.0]]])
    out = naive_forecasts(x, SCHEMA)
    np.testing.assert_array_equal(out["naive (last value)"], [[13.0, 13.0, 13.0]])
    # period 2: step 1 is the value 2 - 1 rows back (12), step 2 the last (13), step 3 -> 12
    np.testing.assert_array_equal(out["seasonal naive (period 2)"], [[12.0, 13.0, 12.0]])
    assert list(out) == ["naive (last value)", "seasonal naive (period 2)"]
    assert list(naive_forecasts(x, {**SCHEMA, "period": 1})) == ["naive (last value)"]


def test_seasonal_weights_read_the_target_column_of_the_flat_window() -> None:
    weights = seasonal_weights({**SCHEMA, "period": 4, "horizon": 5})
    assert weights.shape == (8, 5)
    # rows are (window row, column) pairs: sales of row r is index 2 * r + 1
    assert [int(np.flatnonzero(weights[:, k])[0]) for k in range(5)] == [1, 3, 5, 7, 1]


def test_errors_of_a_forecast() -> None:
    y, p = np.array([[2.0, 4.0]]), np.array([[1.0, 6.0]])
    assert errors(y, p, scale=2.0) == pytest.approx(
        {"mae": 1.5, "rmse": np.sqrt(2.5), "mape": (0.5 + 0.5) / 2, "mase": 0.75}
    )


def forecast_splits() -> Splits:
    rng = np.random.default_rng(0)
    series = 50 + np.cumsum(rng.normal(size=80))
    x = np.stack([series[i : i + 4, None] for i in range(70)]).astype("float32")
    y = np.stack([series[i + 4 : i + 7] for i in range(70)]).astype("float32")
    schema = {**SCHEMA, "columns": ["sales"], "target_index": 0}
    return Splits(x[:50], y[:50], x[50:], y[50:], x[:0], y[:0], "forecast", None, schema=schema)


def tiny_config(catalog: Any) -> TrialConfig:
    adam = catalog["optimizer"].get("adam").defaults()
    return TrialConfig.from_json(
        {
            "training": {"epochs": 1, "batch_size": 16},
            "slots": {
                "model": {"name": "mlp", "params": {"layers": 1, "units": 4, "dropout": 0.0}},
                "activation": {"name": "relu", "params": {}},
                "loss": {"name": "mse", "params": {}},
                "optimizer": {"name": "adam", "params": adam},
            },
        }
    )


def test_the_forecast_head_adds_a_fixed_seasonal_naive_layer(catalog: Any) -> None:
    splits = forecast_splits()
    model = build_model(tiny_config(catalog), splits, catalog)
    naive = model.get_layer("seasonal_naive")
    assert not naive.trainable
    base = keras.Model(model.input, naive.output)
    expected = naive_forecasts(splits.x_val, splits.schema)["seasonal naive (period 2)"]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(base(splits.x_val)), expected, rtol=1e-6)
    # the learned part is standardized like the training residuals of that baseline
    correction = model.get_layer("correction")
    residual = (
        splits.y_train - naive_forecasts(splits.x_train, splits.schema)["seasonal naive (period 2)"]
    )
    assert correction.scale == pytest.approx(residual.std(), rel=1e-5)
    assert correction.offset == pytest.approx(residual.mean(), rel=1e-5, abs=1e-6)
    assert predict_output(model, splits.x_val, "forecast").shape == (20, 3)


def test_baselines_are_printed_for_forecasts_only(
    catalog: Any, tmp_path: Path, write_space: Any
) -> None:
    lines = ["date,sales"] + [f"2024-01-{d:02d},{d % 7 + d / 10}" for d in range(1, 32)]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    space = write_space(
        """
        study: {metric: mae}
        data:
          source: {timeseries: {path: s.csv, window: 7, period: 7}}
          validation: 0.3
          test: 0.0
        model: {mlp: {}}
        """
    )
    text = baseline_text(load_spec(space, catalog=catalog), catalog)
    # validation: the last 30% of 24 windows = 7 windows, whose targets are days 25-31
    days = np.arange(25, 32)
    values = days % 7 + days / 10
    naive = np.mean(np.abs(values - ((days - 1) % 7 + (days - 1) / 10)))
    seasonal = np.mean(np.abs(values - ((days - 7) % 7 + (days - 7) / 10)))
    assert text == (
        "baselines on the validation split (7 windows), not trials:\n"
        f"  naive (last value)         mae {naive:.4f}\n"
        f"  seasonal naive (period 7)  mae {seasonal:.4f}\n"
    )
    # several objectives: each metric of the predictions (a measure of the model has no baseline),
    # fitted: MASE scales by the training series, whose targets are days 8-17 (24 windows, 7 for
    # validation, a gap of 7): days 7 apart differ by 0.7
    several = space.with_name("several.yaml")
    several.write_text(space.read_text().replace("{metric: mae}", "{metric: [mase, params, mae]}"))
    text = baseline_text(load_spec(several, catalog=catalog), catalog)
    assert text.splitlines()[1:] == [
        f"  naive (last value)         mase {naive / 0.7:.4f}, mae {naive:.4f}",
        f"  seasonal naive (period 7)  mase {seasonal / 0.7:.4f}, mae {seasonal:.4f}",
    ]
    iris = load_spec({"data": {"source": {"sklearn": {"name": "iris"}}}, "model": "mlp"})
    assert baseline_text(iris, catalog) == ""


def test_a_forecast_model_predicts_every_step_after_a_reload(catalog: Any, tmp_path: Path) -> None:
    from automl.serving import LoadedModel, write_predictions

    splits = forecast_splits()
    model = build_model(tiny_config(catalog), splits, catalog)
    model.save(tmp_path / "m.keras")
    card = {"task": "forecast", "input_shape": [4, 1], "input_schema": {"shape": [4, 1]}}
    loaded = LoadedModel(tmp_path, keras.saving.load_model(tmp_path / "m.keras"), card)
    expected = predict_output(model, splits.x_val[:2], "forecast")
    np.testing.assert_allclose(loaded.predict(splits.x_val[:2]), expected, rtol=1e-6)
    text = write_predictions(loaded, splits.x_val[:2], ["a", "b"], None)
    assert text is not None
    header, first, _ = text.splitlines()
    assert header == "id,value_1,value_2,value_3"
    assert first == "a," + ",".join(f"{v:.6g}" for v in expected[0])
    with pytest.raises(
        InputError, match="predict_proba needs a classifier; this model is a forecast"
    ):
        loaded.predict_proba(splits.x_val[:2])


def test_tune_and_trials_print_the_baselines_under_the_leaderboard(
    catalog: Any, tmp_path: Path, write_space: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from automl.cli import main

    lines = ["t,sales"] + [f"{t},{(t % 5) * 2 + t / 10}" for t in range(60)]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    space = write_space(
        """
        study: {name: tiny-forecast, trials: 1}
        data:
          source: {timeseries: {path: s.csv, time: t, window: 5, horizon: 2, period: 5}}
        training: {epochs: 1}
        model: {mlp: {layers: 1, units: 4}}
        """
    )
    assert main(["tune", str(space), "--no-progress"]) == 0
    tuned = capsys.readouterr().out
    assert main(["trials", str(space)]) == 0
    listed = capsys.readouterr().out
    for out in (tuned, listed):
        assert "rank  trial  mae" in out
        assert "baselines on the validation split (9 windows), not trials:" in out
        assert "  seasonal naive (period 5)  mae 0.5000\n" in out  # a period of trend: 5 x 0.1
    assert main(["trials", str(space), "--json"]) == 0
    assert "baselines" not in capsys.readouterr().out


WINDOWS_PLUGIN = """
import numpy as np

from automl import hookimpl
from automl.components import BaseDataSource
from automl.data import Dataset


class Windows(BaseDataSource):
    name = "windows"
    help = "Windows of a noisy trend, given as unordered rows (no time order announced)."

    def load(self, **params):
        rng = np.random.default_rng(0)
        series = np.cumsum(rng.normal(size=130)) + np.linspace(0.0, 20.0, 130) ** 1.5
        x = np.stack([series[i : i + 4, None] for i in range(120)]).astype("float32")
        y = np.stack([series[i + 4 : i + 7] for i in range(120)]).astype("float32")
        schema = {"window": 4, "columns": ["v"], "target_index": 0, "horizon": 3, "stride": 1}
        return Dataset(x=x, y=y, task="forecast", name="windows", schema=schema)


@hookimpl
def register_data_sources(register):
    register(Windows())
"""


def test_folds_and_the_export_scale_mase_by_their_own_training_rows(
    tmp_path: Path, write_space: Any
) -> None:
    """A forecast given as unordered windows is cross-validated: each fold's MASE is scaled by
    that fold's training rows, the card's estimate fold by fold the same way, and the exported
    model's test MASE by the rows it was trained on (every development row, for a bag)."""
    from automl.data import load_partition
    from automl.export import export_model
    from automl.forecast import errors, naive_forecasts, training_scale
    from automl.spec import open_space
    from automl.storage import checkpoint_path, oof_path
    from automl.study import tune

    (tmp_path / "windows_plugin.py").write_text(WINDOWS_PLUGIN)
    space = write_space(
        """
        plugins: [windows_plugin.py]
        study: {name: cv-forecast, metric: mase, trials: 1, seed: 0, keep_checkpoints: 1}
        data: {source: windows, task: forecast, folds: 2, test: 0.25}
        training: {epochs: 2, batch_size: 16, early_stopping: false}
        model: {mlp: {layers: 1, units: 4}}
        """
    )
    spec, catalog = open_space(space)
    (trial,) = tune(spec, progress=False).study.trials
    partition = load_partition(spec, catalog)
    assert len(partition.folds) == 2
    oof = np.load(oof_path(spec, trial.number))
    scales = [training_scale(partition.fold(k)) for k in range(2)]
    assert scales[0] != pytest.approx(scales[1])  # the folds' training rows differ
    expected = []
    for k, (_, val) in enumerate(partition.folds):
        model = keras.saving.load_model(checkpoint_path(spec, trial.number, k))
        np.testing.assert_allclose(oof[val], model.predict(partition.x[val], verbose=0), rtol=1e-5)
        expected.append(np.mean(np.abs(partition.y[val] - oof[val])) / scales[k])
    assert trial.user_attrs["fold_scores"] == pytest.approx(expected, rel=1e-5)
    assert trial.value == pytest.approx(np.mean(expected), rel=1e-5)

    card = json_card(export_model(spec, tmp_path / "bag"))
    assert card["export"]["kind"] == "bag"
    assert card["estimate"]["folds"] == pytest.approx(expected, rel=1e-5)
    bag = keras.saving.load_model(tmp_path / "bag" / "model.keras")
    test = partition.test
    pred = bag.predict(test.x_test, verbose=0)
    scale = training_scale(partition.development())  # the bag's fold models saw every row
    assert scale not in (pytest.approx(scales[0]), pytest.approx(scales[1]))
    assert card["test_score"] == pytest.approx(
        np.mean(np.abs(test.y_test - pred)) / scale, rel=1e-4
    )
    evaluation = card["evaluation"]
    assert evaluation["split"] == "test"
    assert evaluation["mase"] == pytest.approx(card["test_score"], rel=1e-6)
    naive = errors(
        test.y_test, naive_forecasts(test.x_test, test.schema)["naive (last value)"], scale
    )
    assert evaluation["baselines"]["naive (last value)"]["mase"] == pytest.approx(naive["mase"])
    assert len(evaluation["mae_by_step"]) == 3


def json_card(directory: Path) -> dict[str, Any]:
    import json

    return dict(json.loads((directory / "model.json").read_text()))
