"""What is exported: a trial's weights, its fold models averaged, a greedy ensemble, a single
refit model (--trial, --ensemble, --single), and every error."""

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

from automl.data import load_partition
from automl.errors import AutoMLError, ExportError, StudyError
from automl.export import export_model
from automl.export._source import choose_trial
from automl.spec import load_spec, open_space
from automl.storage import checkpoint_path, oof_path, open_study

Predict = Callable[[Path, np.ndarray], np.ndarray]


def test_trial_option_exports_that_trial(space: Path, tmp_path: Path) -> None:
    study = open_study(load_spec(str(space)), create=False)
    other = next(t.number for t in study.trials if t.number != study.best_trial.number)
    card = json.loads(
        (export_model(str(space), tmp_path / "t", trial=other) / "model.json").read_text()
    )
    assert card["trial"] == other
    assert card["validation_score"] == pytest.approx(study.trials[other].value)
    assert set(card["formats"]) == {"keras"}


def test_single_retrains_a_hold_out_trial_on_train_plus_validation(
    space: Path,
    tmp_path: Path,
    test_rows: tuple[np.ndarray, np.ndarray],
    keras_predictions: Predict,
) -> None:
    tuned = json.loads((export_model(str(space), tmp_path / "tuned") / "model.json").read_text())
    out = export_model(str(space), tmp_path / "retrained", retrain=True, formats="onnx")
    card = json.loads((out / "model.json").read_text())
    assert card["retrained"]["train_rows"] == card["data"]["development_rows"] == 1437
    assert card["export"]["kind"] == "single"
    assert card["retrained"]["epochs"] == tuned["best_epoch"]
    assert card["validation_score"] == tuned["validation_score"]  # the tuned trial's own score
    # (a refit on more rows is not always better: on this 2-epoch study it is not)
    x, y = test_rows
    assert card["test_score"] == pytest.approx(np.mean(keras_predictions(out, x).argmax(1) == y))
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
            ExportError, match=r"the fold models of trial 1 are not on this machine.*--single"
        ):
            export_model(str(space), tmp_path / "out", trial=1)
    finally:
        ckpt.write_bytes(saved)


def _members(space: Path, card: dict) -> list[tuple[float, keras.Model]]:  # type: ignore[type-arg]
    spec = load_spec(str(space))
    return [
        (m["weight"], keras.saving.load_model(checkpoint_path(spec, m["trial"], m["fold"])))
        for m in card["export"]["members"]
    ]


def test_a_cross_validated_trial_exports_its_fold_models_averaged(
    cv_space: Path, tmp_path: Path, keras_predictions: Predict
) -> None:
    out = export_model(str(cv_space), tmp_path / "bag")
    card = json.loads((out / "model.json").read_text())
    best = open_study(load_spec(str(cv_space)), create=False).best_trial
    assert card["export"]["kind"] == "bag" and card["trial"] == best.number
    assert [(m["trial"], m["fold"]) for m in card["export"]["members"]] == [
        (best.number, k) for k in range(3)
    ]
    x = np.random.default_rng(0).uniform(0, 16, size=(20, 64)).astype("float32")
    mean = np.mean([m.predict(x, verbose=0) for _, m in _members(cv_space, card)], axis=0)
    np.testing.assert_allclose(keras_predictions(out, x), mean, atol=1e-5)
    # the estimate is the trial's cross-validated score: its folds' scores, mean and spread
    assert card["estimate"]["folds"] == pytest.approx(best.user_attrs["fold_scores"])
    assert card["estimate"]["mean"] == pytest.approx(best.value)
    assert card["estimate"]["std"] == pytest.approx(np.std(best.user_attrs["fold_scores"]))
    assert card["gap"] == pytest.approx(card["estimate"]["mean"] - card["test_score"])


@pytest.mark.slow  # every format of a 9-model ensemble: about 20 s
def test_a_greedy_ensemble_reloads_in_every_format_as_the_mean_of_its_members(
    cv_space: Path, tmp_path: Path, test_rows_cv: tuple[np.ndarray, np.ndarray]
) -> None:
    import onnxruntime as ort
    import tensorflow as tf

    out = export_model(str(cv_space), tmp_path / "ens", ensemble=3, formats="all")
    card = json.loads((out / "model.json").read_text())
    selection = card["export"]["selection"]
    assert card["export"]["kind"] == "ensemble" and selection["candidates"] != []
    weights = {int(t): c / sum(selection["picks"].values()) for t, c in selection["picks"].items()}
    for m in card["export"]["members"]:
        assert m["weight"] == pytest.approx(weights[m["trial"]] / 3)  # 3 fold models each
    x, y = test_rows_cv
    expected = sum(w * m.predict(x, verbose=0) for w, m in _members(cv_space, card))
    served = tf.saved_model.load(str(out / "saved_model"))  # kept alive while it serves
    got = {
        "keras": keras.saving.load_model(out / "model.keras", safe_mode=True).predict(x, verbose=0),
        "saved_model": np.asarray(served.serve(x)),
        "onnx": ort.InferenceSession(str(out / "model.onnx")).run(None, {"inputs": x})[0],
        "automl.load": automl_load(out).predict_proba(x),
    }
    for fmt, predictions in got.items():
        np.testing.assert_allclose(predictions, expected, atol=1e-4, err_msg=fmt)
    assert card["formats"]["tflite"]["max_abs_diff"] <= 1e-4  # checked by the export itself
    # the estimate is the ensemble's out-of-fold accuracy, fold by fold
    spec, catalog = open_space(str(cv_space))
    partition = load_partition(spec, catalog)
    oof = sum(w * np.load(oof_path(spec, t)) for t, w in weights.items())
    per_fold = [np.mean(oof[val].argmax(axis=1) == partition.y[val]) for _, val in partition.folds]
    assert card["estimate"]["folds"] == pytest.approx(per_fold)
    assert card["estimate"]["rows"] == len(partition.x)
    assert card["test_score"] == pytest.approx(np.mean(expected.argmax(axis=1) == y))


def automl_load(out: Path):  # type: ignore[no-untyped-def]
    import automl

    return automl.load(out)


def test_single_refits_one_model_on_every_development_row(cv_space: Path, tmp_path: Path) -> None:
    card = json.loads(
        (export_model(str(cv_space), tmp_path / "one", retrain=True) / "model.json").read_text()
    )
    best = open_study(load_spec(str(cv_space)), create=False).best_trial
    assert card["export"]["kind"] == "single"
    assert card["retrained"]["train_rows"] == card["data"]["development_rows"] == 1437
    assert card["retrained"]["epochs"] == best.user_attrs["best_epoch"]
    assert card["estimate"]["mean"] == pytest.approx(best.value)  # the configuration's CV score


def test_ensemble_errors(cv_space: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"--ensemble chooses its trials itself.*trial=0"):
        export_model(str(cv_space), tmp_path / "out", ensemble=2, trial=0)
    with pytest.raises(ExportError, match=r"--ensemble needs at least 1 trial"):
        export_model(str(cv_space), tmp_path / "out", ensemble=0)
    spec = load_spec(str(cv_space))
    third = open_study(spec, create=False).trials  # every trial kept its fold models
    oof = oof_path(spec, third[-1].number)
    saved = oof.read_bytes()
    oof.unlink()
    try:
        with pytest.raises(
            ExportError,
            match=rf"--ensemble 3: trials \[{third[-1].number}\] of the top 3 kept no fold "
            r"models.*Pass --ensemble 2 or less",
        ):
            export_model(str(cv_space), tmp_path / "out", ensemble=3)
    finally:
        oof.write_bytes(saved)
    assert not (tmp_path / "out").exists()


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


def test_the_bag_estimate_is_scikit_learns_accuracy_of_the_out_of_fold_predictions(
    cv_space: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.metrics import accuracy_score

    import automl
    from automl.cli import main

    out = export_model(str(cv_space), tmp_path / "bag")
    card = json.loads((out / "model.json").read_text())
    spec, catalog = open_space(str(cv_space))
    partition = load_partition(spec, catalog)
    oof = np.load(oof_path(spec, card["trial"]))
    assert np.isfinite(oof).all()  # 3 folds: every development row predicted once
    per_fold = [accuracy_score(partition.y[v], oof[v].argmax(axis=1)) for _, v in partition.folds]
    estimate = card["estimate"]
    assert estimate["folds"] == pytest.approx(per_fold)
    assert estimate["mean"] == pytest.approx(np.mean(per_fold))
    assert estimate["std"] == pytest.approx(np.std(per_fold))
    assert estimate["rows"] == len(partition.x)
    assert card["threshold"] is None  # multiclass: argmax
    # the leaderboard reports the same mean and spread for that trial
    assert main(["trials", str(cv_space), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    row = next(r for r in rows if r["trial"] == card["trial"])
    assert (row["score"], row["std"], row["folds"]) == pytest.approx(
        (estimate["mean"], estimate["std"], 3)
    )
    assert main(["trials", str(cv_space)]) == 0
    assert f"{estimate['mean']:.4f} ±{estimate['std']:.4f}" in capsys.readouterr().out
    # the test score is scikit-learn's accuracy of the exported model, inside its interval
    test = partition.test
    labels = automl.load(out).predict(test.x_test)
    truth = np.asarray(card["class_labels"])[test.y_test]
    assert card["test_score"] == pytest.approx(accuracy_score(truth, labels))
    assert card["test_interval"]["low"] <= card["test_score"] <= card["test_interval"]["high"]
    assert card["gap"] == pytest.approx(estimate["mean"] - card["test_score"])
    text = (out / "MODEL_CARD.md").read_text()
    assert (
        f"- Estimate: accuracy {estimate['mean']:.4f} ± {estimate['std']:.4f}, from 3-fold" in text
    )
