"""Sampling: a choice's parameters only when chosen; names namespaced; grid enumeration."""

from __future__ import annotations

import optuna

from automl.space import sample_config
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
