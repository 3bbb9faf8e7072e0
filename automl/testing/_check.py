"""`check_component`: the declaration, then the behaviour of the component's kind."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl.components import Component
from automl.errors import ContractError
from automl.testing._common import fail
from automl.testing._data import check_data_source
from automl.testing._declaration import check_declaration
from automl.testing._layers import check_activation, check_model_family, check_preprocessor
from automl.testing._scores import check_loss, check_metric
from automl.testing._training import check_optimizer, check_regularizer


@dataclass(frozen=True)
class _Inputs:
    """What the caller of `check_component` chose to build with."""

    input_shape: tuple[int, ...] | None
    x: np.ndarray | None


#: kind -> the check of one parameter set (data sources are loaded once, not per parameter set).
_CHECKS: dict[str, Callable[[Any, dict[str, Any], _Inputs], None]] = {
    "model_family": lambda c, p, inputs: check_model_family(c, p, inputs.input_shape),
    "preprocessor": lambda c, p, inputs: check_preprocessor(c, p, inputs.x),
    "activation": lambda c, p, _: check_activation(c, p),
    "loss": lambda c, p, _: check_loss(c, p),
    "regularizer": lambda c, p, _: check_regularizer(c, p),
    "optimizer": lambda c, p, _: check_optimizer(c, p),
    "metric": lambda c, p, _: check_metric(c, p),
}


def param_sets(component: Component) -> list[dict[str, Any]]:
    """The defaults, then the low and high ends of every default range (duplicates dropped)."""
    sets = [component.defaults()]
    for end in (0, -1):
        values = component.defaults()
        for p in component.params:
            if p.type == "categorical" and p.choices:
                values[p.name] = p.choices[end]
            elif p.low is not None and p.high is not None:
                value = (p.low, p.high)[end]
                values[p.name] = int(value) if p.type == "int" else float(value)
        if values not in sets:
            sets.append(values)
    return sets


def with_defaults(component: Component, defaults: dict[str, Any]) -> Component:
    """A copy of `component` whose parameters default to `defaults` (the others as declared)."""
    unknown = sorted(set(defaults) - {p.name for p in component.params})
    if unknown:
        raise ValueError(
            f"{component.kind} {component.name!r} has no parameters {unknown}. "
            f"Expected some of: {[p.name for p in component.params]}"
        )
    changed = copy.copy(component)
    changed.params = tuple(  # type: ignore[misc]
        dataclasses.replace(p, default=defaults[p.name]) if p.name in defaults else p
        for p in component.params
    )
    return changed


def check_component(
    component: Component,
    *,
    input_shape: tuple[int, ...] | None = None,
    x: np.ndarray | None = None,
    data_params: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> None:
    """Check `component` against the contract of its kind (see `automl.testing`).

    Args:
        component: an instance of a `Base*` component class.
        input_shape: the input shape (no batch axis) to build a model family for. Defaults to
            `None`: the first of (6,), (8, 8, 1), (8, 4) that `check_input` accepts. A family
            that `takes_tokens` gets token ids below 20 (0 = padding) of that shape.
        x: sample inputs for a preprocessor (at least 8 rows). Defaults to `None`: random
            floats, or short random sentences (rows, 1) for a preprocessor that `accepts_text`.
        data_params: parameters to `load` a data source with. Defaults to `None`: only its
            declaration and `task()` are checked (loading may need files or a network).
        params: defaults to check with instead of the declared ones, e.g. `{"weights": None}`
            for a family that downloads weights by default. Defaults to `None`.
    """
    if params:
        component = with_defaults(component, params)
    check_declaration(component)
    if component.kind == "data_source":
        check_data_source(component, data_params)
        return
    check, inputs = _CHECKS[component.kind], _Inputs(input_shape, x)
    for i, params in enumerate(param_sets(component)):
        try:
            check(component, params, inputs)
        except ContractError:
            raise
        except Exception as exc:
            label = "default parameters" if i == 0 else f"parameters {params}"
            raise fail(component, f"raised {type(exc).__name__} with {label}: {exc}") from exc
