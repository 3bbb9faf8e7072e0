"""Which trial is exported and with which weights: --trial, --retrain, and every error."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from automl.data import load_splits
from automl.errors import AutoMLError, ExportError, StudyError
from automl.export import export_model
from automl.export._source import choose_trial
from automl.spec import load_spec, open_space
from automl.storage import checkpoint_path, open_study
from automl.trial import predict_output


def test_trial_option_exports_that_trial(space: Path, tmp_path: Path) -> None:
    study = open_study(load_spec(str(space)), create=False)
    other = next(t.number for t in study.trials if t.number != study.best_trial.number)
    card = json.loads(
        (export_model(str(space), tmp_path / "t", trial=other) / "model.json").read_text()
    )
    assert card["trial"] == other
    assert card["validation_score"] == pytest.approx(study.trials[other].value)
    assert set(card["formats"]) == {"keras"}


def test_retrain_trains_on_train_and_validation_and_scores_the_test_split(
    space: Path, tmp_path: Path
) -> None:
    tuned = json.loads((export_model(str(space), tmp_path / "tuned") / "model.json").read_text())
    out = export_model(str(space), tmp_path / "retrained", retrain=True, formats="onnx")
    card = json.loads((out / "model.json").read_text())
    assert (
        card["retrained"]["train_rows"]
        == card["data"]["train_rows"] + card["data"]["validation_rows"]
    )
    assert card["retrained"]["epochs"] == tuned["best_epoch"]
    assert card["validation_score"] == tuned["validation_score"]  # the tuned trial's own score
    # the test score is the retrained model's accuracy on the test split (no method promises
    # that retraining beats the tuned weights, so only the score's own correctness is checked)
    spec, catalog = open_space(str(space))
    splits = load_splits(spec, catalog)
    model = keras.saving.load_model(out / "model.keras")
    labels = predict_output(model, splits.x_test, splits.task).argmax(axis=1)
    assert card["test_score"] == pytest.approx(float(np.mean(labels == splits.y_test)))
    assert card["formats"]["onnx"]["max_abs_diff"] <= 1e-4


def test_no_finished_trial_is_an_error(
    tuned: Path, write_space: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_space(tuned.read_text().replace("export-digits", "export-empty"))
    open_study(load_spec(str(path)))  # created, never run
    with pytest.raises(
        AutoMLError, match=r"no finished trial to export yet: run `automl tune` first"
    ):
        export_model(str(path), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_trial_is_an_error(space: Path, tmp_path: Path) -> None:
    with pytest.raises(AutoMLError, match=r"study 'export-digits' has no trial 99"):
        export_model(str(space), tmp_path / "out", trial=99)


def test_a_trial_that_did_not_complete_has_no_model(space: Path) -> None:
    spec = load_spec(str(space))
    study = optuna.create_study(direction="maximize")  # in memory: states set by hand
    dist = {"x": FloatDistribution(0.0, 1.0)}
    study.add_trial(create_trial(state=TrialState.FAIL))
    study.add_trial(create_trial(params={"x": 0.5}, distributions=dist, value=0.25))
    study.add_trial(create_trial(params={"x": 0.1}, distributions=dist, value=0.75))
    study.add_trial(create_trial(state=TrialState.PRUNED))
    assert [choose_trial(study, spec, n).number for n in (None, 1, 2)] == [2, 1, 2]
    with pytest.raises(StudyError, match=r"^trial 0 is fail, not complete: it has no model$"):
        choose_trial(study, spec, 0)
    with pytest.raises(StudyError, match=r"^trial 3 is pruned, not complete: it has no model$"):
        choose_trial(study, spec, 3)
    with pytest.raises(
        StudyError,
        match=r"^study 'export-digits' has no trial 4: expected a trial number from 0 to 3\. "
        r"Received: trial=4$",
    ):
        choose_trial(study, spec, 4)


def test_missing_checkpoint_suggests_retrain(space: Path, tmp_path: Path) -> None:
    spec = load_spec(str(space))
    ckpt = checkpoint_path(spec, 1)
    saved = ckpt.read_bytes()
    ckpt.unlink()
    try:
        with pytest.raises(
            ExportError, match=r"checkpoint of trial 1 is not on this machine.*--retrain"
        ):
            export_model(str(space), tmp_path / "out", trial=1)
    finally:
        ckpt.write_bytes(saved)


def test_a_point_must_be_chosen_and_never_an_infeasible_one() -> None:
    spec = load_spec(
        {
            "study": {
                "name": "two",
                "metric": ["accuracy", "params"],
                "constraints": {"params": {"max": 100}},
            },
            "data": {"source": {"sklearn": {"name": "iris"}}},
            "model": {"mlp": {}},
        }
    )
    study = optuna.create_study(directions=["maximize", "minimize"])
    dist = {"x": FloatDistribution(0.0, 1.0)}
    for i, (accuracy, params) in enumerate([(0.9, 80.0), (0.8, 40.0), (0.7, 90.0), (0.99, 150.0)]):
        attrs = {"constraints:params": params - 100}
        user = {"infeasible": "violates study.constraints: params 150 > max 100"} if i == 3 else {}
        study.add_trial(
            create_trial(
                params={"x": i / 10},
                distributions=dist,
                values=[accuracy, params],
                system_attrs=attrs,
                user_attrs=user,
            )
        )
    with pytest.raises(StudyError) as info:
        choose_trial(study, spec, None)
    assert str(info.value) == (
        "study 'two' has 2 objectives (accuracy (maximize), params (minimize)), so no single best "
        "trial: choose a point of its Pareto front with --trial N:\n"
        "  trial 0: accuracy 0.9000, params 80.0000\n"
        "  trial 1: accuracy 0.8000, params 40.0000"
    )  # trial 3 dominates both but breaks the constraint; trial 2 is dominated
    assert choose_trial(study, spec, 2).number == 2  # any feasible trial may be chosen
    with pytest.raises(
        StudyError,
        match=r"^trial 3 violates study\.constraints: params 150 > max 100: it is never chosen$",
    ):
        choose_trial(study, spec, 3)
