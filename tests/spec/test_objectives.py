"""Several metrics: a sampler that can run them, no pruner, a metric of the predictions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from automl.errors import SpecError
from automl.spec import load_spec

SPACE = """
study:
  metric: {metric}
  sampler: {sampler}
  {pruner}
data: {{source: {{sklearn: {{name: iris}}}}}}
model: {{mlp: {{}}}}
"""
WriteSpace = Callable[..., Path]


def _space(metric: str, sampler: str = "tpe", pruner: str = "", line: str = "") -> str:
    """The space; `pruner` (when given) or `line` (any other study key) is its 4th line."""
    return SPACE.format(
        metric=metric, sampler=sampler, pruner=f"pruner: {pruner}" if pruner else line
    )


def _problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p) for p in info.value.problems]


def test_two_metrics_make_a_two_objective_spec(write_space: WriteSpace) -> None:
    spec = load_spec(write_space(_space("[accuracy, latency_ms]", "nsgaii", "none")))
    assert spec.study.metrics == ("accuracy", "latency_ms")
    assert spec.study.directions == ("maximize", "minimize")
    assert spec.study.sampler.name == "nsgaii"
    assert spec.study.describe_metrics() == "metrics accuracy [maximize], latency_ms [minimize]"


def test_cmaes_cannot_run_several_objectives(write_space: WriteSpace) -> None:
    assert _problems(write_space(_space("[accuracy, params]", "cmaes"))) == [
        "line 3: study.sampler: sampler 'cmaes' cannot run a study of several metrics; "
        "expected one of: tpe, random, grid, gp, qmc, nsgaii"
    ]
    assert load_spec(write_space(_space("accuracy", "cmaes"))).study.sampler.name == "cmaes"


@pytest.mark.parametrize("pruner", ["median", "{hyperband: {}}"])
def test_a_pruner_is_refused_with_several_objectives(write_space: WriteSpace, pruner: str) -> None:
    name = pruner.strip("{}").split(":")[0]
    assert _problems(write_space(_space("[accuracy, params]", pruner=pruner))) == [
        "line 4: study.pruner: a study of several metrics is never pruned (Optuna's "
        f"Trial.report refuses multi-objective studies): expected no pruner or none, got {name!r}"
    ]


def test_no_pruner_named_means_none_for_several_objectives(write_space: WriteSpace) -> None:
    from automl.storage import make_pruner

    spec = load_spec(write_space(_space("[accuracy, params]")))
    assert type(make_pruner(spec)).__name__ == "NopPruner"
    single = load_spec(write_space(_space("accuracy")))
    assert type(make_pruner(single)).__name__ == "MedianPruner"  # as before


@pytest.mark.parametrize("metric", ["params", "[latency_ms, size_mb]"])
def test_a_metric_of_the_predictions_is_needed(write_space: WriteSpace, metric: str) -> None:
    (problem,) = _problems(write_space(_space(metric)))
    assert problem.startswith(
        "line 2: study.metric: expected at least one metric of the predictions (e.g. accuracy) "
        "to train against; "
    )
    assert "measure the model, which does not change while it trains" in problem


def test_a_constraint_on_a_model_measure_is_fine_with_one_metric(write_space: WriteSpace) -> None:
    spec = load_spec(write_space(_space("accuracy", line="constraints: {params: {max: 5000}}")))
    assert [(c.metric, c.min, c.max) for c in spec.study.constraints] == [("params", None, 5000)]
    assert spec.study.pruner.name == "median"  # one objective: pruned as before
