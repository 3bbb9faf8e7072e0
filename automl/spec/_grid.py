"""The finite grid of a search space, for Optuna's grid sampler."""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from automl.spec._model import Spec
from automl.spec._params import describe


def _values(name: str, dist: Any) -> list[Any]:
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, FloatDistribution) and dist.step is None:
        raise ValueError(
            f"the grid sampler needs a `step` (or a list of values) for {name}; "
            f"got {describe(dist)}"
        )
    if dist.log:
        raise ValueError(f"the grid sampler cannot enumerate the log range of {name}: give a list")
    step = dist.step
    count = round((dist.high - dist.low) / step) + 1
    if isinstance(dist, IntDistribution):
        return [int(dist.low + i * step) for i in range(count)]
    return [round(dist.low + i * step, 12) for i in range(count)]


def grid_search_space(spec: Spec) -> dict[str, list[Any]]:
    """Every Optuna name with its finite list of values, for the grid sampler.

    A float range needs a `step` and a log range a list; otherwise a ValueError says which.
    """
    grid: dict[str, list[Any]] = {}
    if isinstance(spec.training.batch_size, IntDistribution | CategoricalDistribution):
        grid["training.batch_size"] = _values("training.batch_size", spec.training.batch_size)
    for slot in spec.slots:
        if slot.is_choice:
            grid[slot.key] = [o.name for o in slot.options]
        for option in slot.options:
            for key, value in option.params.items():
                if isinstance(value, IntDistribution | FloatDistribution | CategoricalDistribution):
                    name = f"{slot.key}.{option.name}.{key}"
                    grid[name] = _values(name, value)
    return grid
