"""Spec -> sampled `TrialConfig`. Every Optuna `suggest_*` call lives here.

Names are namespaced: a slot's choice is the parameter `<slot>` (e.g. `model`), an option's
parameters are `<slot>.<option>.<param>` (e.g. `model.cnn.filters`) and are sampled only when that
option is chosen, so each Optuna name always has one distribution.
"""

from __future__ import annotations

from typing import Any

import optuna

from automl.spec import Dist, Slot, Spec

TrialConfig = dict[str, Any]


def suggest(trial: optuna.Trial, name: str, dist: Dist) -> Any:
    """Sample one `Dist` under the Optuna name `name`."""
    if dist.kind == "categorical":
        return trial.suggest_categorical(name, list(dist.choices))
    if dist.kind == "int":
        step = int(dist.step) if dist.step is not None else 1
        return trial.suggest_int(name, int(dist.low), int(dist.high), step=step, log=dist.log)
    return trial.suggest_float(
        name, float(dist.low), float(dist.high), step=dist.step, log=dist.log
    )


def _resolve(trial: optuna.Trial, name: str, value: Any) -> Any:
    return suggest(trial, name, value) if isinstance(value, Dist) else value


def sample_slot(trial: optuna.Trial, slot: Slot) -> dict[str, Any]:
    """Choose a component for `slot`, then sample only that component's parameters."""
    if slot.is_choice:
        chosen = trial.suggest_categorical(slot.key, [o.name for o in slot.options])
        option = next(o for o in slot.options if o.name == chosen)
    else:
        option = slot.options[0]
    params = {
        key: _resolve(trial, f"{slot.key}.{option.name}.{key}", value)
        for key, value in option.params.items()
    }
    return {"name": option.name, "params": params}


def sample_config(trial: optuna.Trial, spec: Spec) -> TrialConfig:
    """The JSON-able configuration of one trial: training settings and one entry per slot."""
    config: TrialConfig = {
        "training": {
            "epochs": spec.training.epochs,
            "batch_size": _resolve(trial, "training.batch_size", spec.training.batch_size),
        },
        "slots": {slot.key: sample_slot(trial, slot) for slot in spec.slots},
    }
    return config


def grid_search_space(spec: Spec) -> dict[str, list[Any]]:
    """Every Optuna name with its finite list of values, for the grid sampler.

    A float range needs a `step`; otherwise the grid would be infinite (a ValueError says so).
    """
    grid: dict[str, list[Any]] = {}

    def values(name: str, dist: Dist) -> list[Any]:
        if dist.kind == "categorical":
            return list(dist.choices)
        if dist.step is None and dist.kind == "float":
            raise ValueError(
                f"the grid sampler needs a `step` (or a list of values) for {name}; "
                f"got {dist.describe()}"
            )
        if dist.log:
            raise ValueError(
                f"the grid sampler cannot enumerate the log range of {name}: give a list"
            )
        step = dist.step if dist.step is not None else 1
        count = round((dist.high - dist.low) / step) + 1
        return [
            (int(dist.low + i * step) if dist.kind == "int" else round(dist.low + i * step, 12))
            for i in range(count)
        ]

    if isinstance(spec.training.batch_size, Dist):
        grid["training.batch_size"] = values("training.batch_size", spec.training.batch_size)
    for slot in spec.slots:
        if slot.is_choice:
            grid[slot.key] = [o.name for o in slot.options]
        for option in slot.options:
            for key, value in option.params.items():
                if isinstance(value, Dist):
                    name = f"{slot.key}.{option.name}.{key}"
                    grid[name] = values(name, value)
    return grid


def describe_space(spec: Spec) -> list[dict[str, Any]]:
    """Rows for `automl space`: every parameter, fixed or searched, and the plugin supplying it."""
    rows: list[dict[str, Any]] = []
    if isinstance(spec.training.batch_size, Dist):
        rows.append(
            {
                "name": "training.batch_size",
                "searched": True,
                "range": spec.training.batch_size.describe(),
                "plugin": "automl",
            }
        )
    else:
        rows.append(
            {
                "name": "training.batch_size",
                "searched": False,
                "range": repr(spec.training.batch_size),
                "plugin": "automl",
            }
        )
    rows.append(
        {
            "name": "training.epochs",
            "searched": False,
            "range": str(spec.training.epochs),
            "plugin": "automl",
        }
    )
    for slot in spec.slots:
        names = [o.name for o in slot.options]
        rows.append(
            {
                "name": slot.key,
                "searched": slot.is_choice,
                "range": f"one of {names}" if slot.is_choice else names[0],
                "plugin": ", ".join(sorted({o.plugin for o in slot.options})),
            }
        )
        for option in slot.options:
            for key, value in option.params.items():
                rows.append(
                    {
                        "name": f"{slot.key}.{option.name}.{key}",
                        "searched": isinstance(value, Dist),
                        "range": value.describe() if isinstance(value, Dist) else repr(value),
                        "plugin": option.plugin,
                    }
                )
    return rows
