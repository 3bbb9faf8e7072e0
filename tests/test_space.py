"""Sampling: a choice's parameters only when chosen; names namespaced; grid enumeration."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from automl.space import default_params, nearest, sample_config
from automl.spec import grid_search_space, load_spec

SPACE = """
study: {name: s, metric: accuracy}
data: {source: {sklearn: {name: digits}}}  # images: both mlp and cnn take them
model:
  mlp: {layers: {low: 1, high: 2}, units: [8, 16], dropout: 0.0}
  cnn: {}
optimizer:
  adam: {learning_rate: {low: 0.001, high: 0.01, log: true}}
  sgd: {learning_rate: 0.01, momentum: {low: 0.0, high: 0.9, step: 0.3}}
"""


def test_only_chosen_option_params_are_sampled(write_space) -> None:
    spec = load_spec(write_space(SPACE))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen_models = set()
    for _ in range(20):
        trial = study.ask()
        config = sample_config(trial, spec)
        model = config.model.name
        optimizer = config.optimizer.name
        seen_models.add(model)
        other_model = "cnn" if model == "mlp" else "mlp"
        assert not any(name.startswith(f"model.{other_model}.") for name in trial.params)
        other_opt = "sgd" if optimizer == "adam" else "adam"
        assert not any(name.startswith(f"optimizer.{other_opt}.") for name in trial.params)
        if model == "mlp":
            assert config.model.params["units"] in (8, 16)
            assert config.model.params["dropout"] == 0.0  # fixed: not an Optuna param
            assert "model.mlp.dropout" not in trial.params
        if optimizer == "sgd":
            momentum = trial.params["optimizer.sgd.momentum"]
            assert min(abs(momentum - v) for v in (0.0, 0.3, 0.6, 0.9)) < 1e-9
        study.tell(trial, 0.0)
    assert seen_models == {"mlp", "cnn"}


def test_grid_search_space_enumerates(write_space) -> None:
    text = SPACE.replace("log: true", "step: 0.003").replace(
        "cnn: {}", "cnn: {filters: [16, 32], dense_units: 32, dropout: 0.0, blocks: 1}"
    )
    spec = load_spec(write_space(text))
    grid = grid_search_space(spec)
    assert grid["model"] == ["mlp", "cnn"]
    assert grid["model.mlp.layers"] == [1, 2]
    assert grid["optimizer.sgd.momentum"] == [0.0, 0.3, 0.6, 0.9]
    assert grid["optimizer.adam.learning_rate"] == [0.001, 0.004, 0.007, 0.01]
    assert grid["model.cnn.filters"] == [16, 32]


def test_batch_size_is_sampled_before_the_slots(write_space) -> None:
    """The order of suggest calls decides each parameter's random numbers: keep it stable."""
    spec = load_spec(
        write_space(SPACE.replace("model:", "training: {batch_size: [16, 32]}\nmodel:"))
    )
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    config = sample_config(trial, spec)
    assert list(trial.params)[:2] == ["training.batch_size", "model"]
    assert config.batch_size == trial.params["training.batch_size"]


DEFAULTS = """
study: {name: s, metric: accuracy}
data: {source: {sklearn: {name: digits}}}
training: {batch_size: [64, 16]}
model:
  mlp: {units: {low: 200, high: 300}}
  cnn: {}
optimizer:
  adam: {learning_rate: {low: 0.002, high: 0.01, log: true}}
  sgd: {}
regularizer: {l2: {}, none: {}}
"""


def test_default_params_are_the_declared_defaults_moved_into_the_file_range(
    write_space, catalog
) -> None:
    spec = load_spec(write_space(DEFAULTS), catalog=catalog)
    # the README's table: mlp layers = 2, units = 128, dropout = 0; adam learning_rate = 1e-3;
    # l2 factor = 1e-4; the first option of every choice; batch size 32 is not among [64, 16]
    assert default_params(spec, catalog) == {
        "training.batch_size": 64,
        "model": "mlp",
        "model.mlp.layers": 2,
        "model.mlp.units": 200,  # 128 clipped into [200, 300]
        "model.mlp.dropout": 0.0,
        "optimizer": "adam",
        "optimizer.adam.learning_rate": 0.002,  # 1e-3 clipped into [0.002, 0.01]
        "regularizers.0": "l2",
        "regularizers.0.l2.factor": 0.0001,
    }


@pytest.mark.parametrize(
    ("dist", "value", "expected"),
    [
        (IntDistribution(16, 512, log=True), 128, 128),
        (IntDistribution(1, 9, step=4), 4, 5),  # the grid is 1, 5, 9
        (FloatDistribution(0.1, 0.5, step=0.2), 0.0, 0.1),
        (FloatDistribution(0.1, 0.5, step=0.2), 0.42, 0.5),
        (FloatDistribution(0.0, 1.0), None, 0.0),  # no declared number: the low end
        (CategoricalDistribution(["max", "avg"]), "avg", "avg"),
        (CategoricalDistribution(["max", "avg"]), "sum", "max"),
    ],
)
def test_nearest_allowed_value(dist, value, expected) -> None:  # type: ignore[no-untyped-def]
    got = nearest(dist, value)
    assert got == expected
    assert type(got) is type(expected)  # an int distribution gives an int
