"""Defaults come from the registries; ranges, fractions, names and the seed follow the rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from automl.errors import SpecError
from automl.spec import load_spec

VALID = """
study: {name: t, trials: 2}
data:
  source: {sklearn: {name: iris}}
model:
  mlp: {layers: 1}
"""
WriteSpace = Callable[..., Path]


def problems_of(path: Path | dict) -> list[str]:  # type: ignore[type-arg]
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p) for p in info.value.problems]


def test_defaults_are_the_components_declared_for_the_task(write_space: WriteSpace) -> None:
    spec = load_spec(write_space(VALID))
    assert spec.study.metric == "accuracy"
    assert spec.slot("loss").options[0].name == "crossentropy"
    assert spec.slot("optimizer").options[0].name == "adam"
    assert spec.slot("activation").options[0].name == "relu"
    regression = load_spec(write_space(VALID.replace("iris", "diabetes")))
    assert regression.study.metric == "rmse"
    assert regression.study.direction == "minimize"
    assert regression.slot("loss").options[0].name == "mse"


def test_disabled_built_in_gives_a_clear_error_not_a_crash(
    write_space: WriteSpace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOML_DISABLE_PLUGINS", "automl_plugins.losses,automl_plugins.optimizers")
    problems = problems_of(write_space(VALID))
    assert problems == [
        "line 1: loss: required: no plugin declares a default loss for multiclass tasks. "
        "Name one; available: (none)",
        "line 1: optimizer: required: no plugin declares a default optimizer for multiclass "
        "tasks. Name one; available: (none)",
    ]


def test_non_dividing_step_names_the_parameter(write_space: WriteSpace) -> None:
    path = write_space(VALID.replace("{layers: 1}", "{dropout: {low: 0.0, high: 0.5, step: 0.2}}"))
    (problem,) = problems_of(path)
    assert problem == (
        "line 5: model.mlp.dropout: `step` must divide `high - low`, but got "
        "(low=0.0, high=0.5, step=0.2); e.g. high=0.4"
    )


def test_validation_plus_test_must_leave_training_rows(write_space: WriteSpace) -> None:
    path = write_space(
        VALID.replace("{name: iris}}", "{name: iris}}\n  validation: 0.5\n  test: 0.5")
    )
    (problem,) = problems_of(path)
    assert "data: `validation + test < 1` must hold" in problem
    assert "(validation=0.5, test=0.5)" in problem


@pytest.mark.parametrize("name", ["../escaped", "a/b", "..", ".hidden", "x" * 200, "sp ace"])
def test_study_name_cannot_leave_runs(write_space: WriteSpace, name: str) -> None:
    path = write_space(VALID.replace("name: t,", f"name: {name!r},"))
    (problem,) = problems_of(path)
    assert "study.name: expected a name of letters, digits" in problem


def test_default_study_name_is_a_safe_folder_name(tmp_path: Path) -> None:
    path = tmp_path / "my space (v2).yaml"
    path.write_text(VALID.replace("name: t, ", ""))
    assert load_spec(path).study.name == "my-space-v2"


def test_the_seed_is_part_of_the_space_hash(write_space: WriteSpace) -> None:
    a = load_spec(write_space(VALID))
    b = load_spec(write_space(VALID.replace("trials: 2", "trials: 2, seed: 1"), "b.yaml"))
    c = load_spec(write_space(VALID.replace("trials: 2", "trials: 9"), "c.yaml"))
    assert a.space_hash != b.space_hash  # another data split: another study
    assert a.space_hash == c.space_hash  # the budget may change between runs


def test_a_dict_space_reports_key_paths() -> None:
    space = {
        "data": {"source": {"sklearn": {"name": "iris"}}},
        "model": {"mlp": {"units": {"low": 64, "high": 8}}},
    }
    (problem,) = problems_of(space)
    assert problem == "model.mlp.units: `low <= high` must hold, but got (low=64, high=8)"
    assert load_spec({**space, "model": "mlp"}).study.name == "study"


def test_several_metrics_make_a_multi_objective_study(write_space: WriteSpace) -> None:
    path = write_space(VALID.replace("trials: 2", "trials: 2, metric: [accuracy, log_loss]"))
    study = load_spec(path).study
    assert study.metrics == ("accuracy", "log_loss")
    assert study.directions == ("maximize", "minimize")
    assert study.multi_objective and study.metric == "accuracy"


def test_metric_list_problems_are_located(write_space: WriteSpace) -> None:
    path = write_space(VALID.replace("trials: 2", "trials: 2, metric: [accuracy, acuracy, rmse]"))
    problems = problems_of(path)
    assert any(
        "study.metric[1]: unknown metric 'acuracy'; did you mean 'accuracy'?" in p for p in problems
    )
    assert any("metric 'rmse' does not fit a multiclass task" in p for p in problems)


def test_constraints_are_bounds_on_known_metrics(write_space: WriteSpace) -> None:
    text = VALID.replace(
        "trials: 2}",
        "trials: 2, constraints: {log_loss: {max: 0.5}, accuracy: {min: 0.9, max: 0.8}, "
        "acc: {min: 1}}}",
    )
    problems = problems_of(write_space(text))
    assert any(
        "study.constraints.accuracy: `min <= max` must hold, but got (min=0.9, max=0.8)" in p
        for p in problems
    )
    assert any("study.constraints.acc: unknown metric 'acc'" in p for p in problems)
    ok = load_spec(
        write_space(
            VALID.replace("trials: 2}", "trials: 2, constraints: {log_loss: {max: 0.5}}}"),
            "ok.yaml",
        )
    )
    (bound,) = ok.study.constraints
    assert (bound.metric, bound.min, bound.max) == ("log_loss", None, 0.5)
    assert bound.violation(0.4) < 0 < bound.violation(0.6)
