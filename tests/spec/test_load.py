"""YAML validation: every problem at once, each with its path, line, expectation and finding."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from optuna.distributions import IntDistribution

from automl.errors import SpecError
from automl.spec import load_spec, parse_duration

VALID = """
study: {name: t, metric: accuracy, trials: 2}
data:
  source: {sklearn: {name: iris}}
model:
  mlp: {layers: 1}
"""


def problems_of(path: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p) for p in info.value.problems]


def test_valid_space_fills_plugin_defaults(write_space) -> None:
    spec = load_spec(write_space(VALID))
    mlp = spec.slot("model").options[0]
    assert mlp.params["layers"] == 1  # fixed by the file
    assert isinstance(mlp.params["units"], IntDistribution)  # the plugin's default range
    assert spec.study.direction == "maximize"
    assert spec.slot("loss").options[0].name == "crossentropy"  # chosen from the task
    assert spec.data.task == "multiclass"


def test_misspelled_component_suggests_closest(write_space) -> None:
    path = write_space(VALID.replace("mlp:", "mpl:"))
    (problem,) = problems_of(path)
    assert problem.startswith("line 5: model.mpl:")
    assert "did you mean 'mlp'?" in problem
    assert "Available: cnn" in problem or "Available:" in problem


def test_low_greater_than_high(write_space) -> None:
    path = write_space(VALID.replace("{layers: 1}", "{units: {low: 64, high: 8}}"))
    (problem,) = problems_of(path)
    assert "model.mlp.units" in problem
    assert "`low <= high` must hold, but got (low=64, high=8)" in problem


def test_missing_required_key(write_space) -> None:
    path = write_space("study: {name: t}\nmodel: mlp\n")
    (problem,) = problems_of(path)
    assert problem.startswith("line 1: data: required key is missing")


def test_unknown_key_suggests(write_space) -> None:
    path = write_space(VALID.replace("trials: 2", "trails: 2"))
    (problem,) = problems_of(path)
    assert problem.startswith("line 1: study.trails: unknown key 'trails'; did you mean 'trials'?")


def test_unknown_param_lists_params(write_space) -> None:
    path = write_space(VALID.replace("{layers: 1}", "{unit: 32}"))
    (problem,) = problems_of(path)
    assert "has no parameter 'unit'; did you mean 'units'?" in problem
    assert "Parameters: layers, units, dropout" in problem


def test_yaml_syntax_error_names_line(write_space) -> None:
    path = write_space("study:\n  name: [unclosed\ndata: {}\n")
    (problem,) = problems_of(path)
    assert problem.startswith("line 3: YAML syntax error")


def test_all_problems_reported_at_once(write_space) -> None:
    text = """
    study: {name: t, trials: -1, metric: acuracy}
    data:
      source: {sklearn: {name: iris}}
      validation: 2
    training: {epochs: zero}
    model:
      mlp: {dropout: {low: 0.5, high: 0.1}}
    optimizer: adamm
    """
    problems = problems_of(write_space(text))
    joined = "\n".join(problems)
    assert len(problems) == 6, joined
    assert "study.trials: expected a value > 0, got -1" in joined
    assert "unknown metric 'acuracy'; did you mean 'accuracy'?" in joined
    assert "data.validation" in joined and "line 4" in joined
    assert "training.epochs" in joined and "'zero'" in joined
    assert "model.mlp.dropout" in joined and "line 7" in joined
    assert "unknown optimizer 'adamm'; did you mean 'adam'?" in joined


def test_wrong_type_and_bounds(write_space) -> None:
    path = write_space(VALID.replace("{layers: 1}", "{layers: two, dropout: 1.5}"))
    problems = "\n".join(problems_of(path))
    assert "model.mlp.layers: expected an integer, got 'two'" in problems
    assert "model.mlp.dropout: expected a value in [0, 0.95], got 1.5" in problems


def test_metric_must_fit_task(write_space) -> None:
    path = write_space(VALID.replace("metric: accuracy", "metric: rmse"))
    (problem,) = problems_of(path)
    assert "metric 'rmse' does not fit a multiclass task" in problem


def test_log_range_needs_positive_low(write_space) -> None:
    path = write_space(
        VALID + "optimizer: {adam: {learning_rate: {low: 0, high: 0.1, log: true}}}\n"
    )
    (problem,) = problems_of(path)
    assert problem.startswith(
        "line 6: optimizer.adam.learning_rate: `low > 0` must hold for a log range"
    )


def test_duplicate_yaml_key(write_space) -> None:
    path = write_space(VALID + "model: cnn\n")
    (problem,) = problems_of(path)
    assert "duplicate key" in problem and "line 6" in problem


def test_sampler_options_are_checked(write_space) -> None:
    path = write_space(VALID.replace("trials: 2", "trials: 2, sampler: {tpe: {n_startup: 3}}"))
    (problem,) = problems_of(path)
    assert "unknown key 'n_startup'; did you mean 'n_startup_trials'?" in problem


def test_choices_and_regularizer_list(write_space) -> None:
    text = VALID + "regularizers:\n  - {l2: {}, none: {}}\n  - dropout\noptimizer: [adam, sgd]\n"
    spec = load_spec(write_space(text))
    assert spec.slot("regularizers.0").is_choice
    assert [o.name for o in spec.slot("regularizers.1").options] == ["dropout"]
    assert [o.name for o in spec.slot("optimizer").options] == ["adam", "sgd"]


@pytest.mark.parametrize(
    ("value", "seconds"), [(90, 90.0), ("90s", 90.0), ("20m", 1200.0), ("1.5h", 5400.0)]
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.slow
def test_cli_validate_exit_2_without_traceback(write_space) -> None:
    path = write_space(VALID.replace("mlp:", "mpl:"))
    proc = subprocess.run(
        [sys.executable, "-m", "automl.cli", "validate", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "did you mean 'mlp'?" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_shipped_spaces_validate() -> None:
    spaces = sorted((Path(__file__).parents[2] / "search_spaces").glob("*.yaml"))
    assert spaces
    for path in spaces:
        load_spec(path)
