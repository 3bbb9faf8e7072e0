"""Spec -> one sampled `TrialConfig`. Every Optuna `suggest_*` call lives here.

Names are namespaced: a slot's choice is the parameter `<slot>` (e.g. `model`), an option's
parameters are `<slot>.<option>.<param>` (e.g. `model.cnn.filters`) and are sampled only when that
option is chosen, so each Optuna name always has one distribution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from automl.spec import SLOT_KINDS, Slot, Spec, describe, is_searched

if TYPE_CHECKING:
    from automl.plugins import Catalog

#: `training.batch_size` when a file does not say (the schema's default)
DEFAULT_BATCH_SIZE = 32


@dataclass(frozen=True)
class Chosen:
    """The component chosen for one slot, with its parameters' values for this trial."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """`{"name": ..., "params": {...}}`."""
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True)
class TrialConfig:
    """The configuration of one trial: plain values, JSON-able (stored on the Optuna trial).

    Args:
        epochs, batch_size: training settings.
        model, loss, optimizer, activation: the chosen component of each slot.
        preprocessors, regularizers: the chosen component of each step, in order.
    """

    epochs: int
    batch_size: int
    model: Chosen
    loss: Chosen
    optimizer: Chosen
    activation: Chosen
    preprocessors: tuple[Chosen, ...] = ()
    regularizers: tuple[Chosen, ...] = ()

    def components(self) -> list[tuple[str, Chosen]]:
        """(kind, chosen) of every slot, in pipeline order."""
        out: list[tuple[str, Chosen]] = []
        for key, (kind, is_list) in SLOT_KINDS.items():
            value = getattr(self, key)
            out.extend((kind, c) for c in (value if is_list else (value,)))
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: `{"epochs", "batch_size", "model": {"name", "params"}, ...}`."""
        out: dict[str, Any] = {"epochs": self.epochs, "batch_size": self.batch_size}
        for key, (_, is_list) in SLOT_KINDS.items():
            value = getattr(self, key)
            out[key] = [c.to_json() for c in value] if is_list else value.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrialConfig:
        """The inverse of `to_json` (also reads automl 0.1's `{"training", "slots"}` layout)."""
        if "slots" in data:
            data = _from_v01(data)
        fields: dict[str, Any] = {
            "epochs": int(data["epochs"]),
            "batch_size": int(data["batch_size"]),
        }
        for key, (_, is_list) in SLOT_KINDS.items():
            value = data[key]
            fields[key] = tuple(Chosen(**c) for c in value) if is_list else Chosen(**value)
        return cls(**fields)


def _from_v01(data: Mapping[str, Any]) -> dict[str, Any]:
    slots = data["slots"]
    out: dict[str, Any] = dict(data["training"])
    for key, (_, is_list) in SLOT_KINDS.items():
        if is_list:
            steps = sorted((k for k in slots if k.startswith(key + ".")), key=_step_index)
            out[key] = [slots[k] for k in steps]
        else:
            out[key] = slots[key]
    return out


def _step_index(key: str) -> int:
    return int(key.split(".")[1])


def suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    """Sample one Optuna distribution under the name `name`."""
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, list(dist.choices))
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    raise TypeError(f"unsupported distribution {dist!r}")


def _value(trial: optuna.Trial, name: str, value: Any) -> Any:
    return suggest(trial, name, value) if is_searched(value) else value


def sample_slot(trial: optuna.Trial, slot: Slot) -> Chosen:
    """Choose a component for `slot`, then sample only that component's parameters."""
    option = slot.options[0]
    if slot.is_choice:
        chosen = trial.suggest_categorical(slot.key, [o.name for o in slot.options])
        option = next(o for o in slot.options if o.name == chosen)
    params = {
        key: _value(trial, f"{slot.key}.{option.name}.{key}", value)
        for key, value in option.params.items()
    }
    return Chosen(option.name, params)


def sample_config(trial: optuna.Trial, spec: Spec) -> TrialConfig:
    """The configuration of one trial: training settings and one choice per slot.

    The batch size is sampled first, then the slots in pipeline order: the order of the
    `suggest_*` calls decides which random numbers each parameter gets, so it is kept stable.
    """
    batch_size = int(_value(trial, "training.batch_size", spec.training.batch_size))
    chosen: dict[str, Any] = {key: [] for key, (_, is_list) in SLOT_KINDS.items() if is_list}
    for slot in spec.slots:
        value = sample_slot(trial, slot)
        if isinstance(chosen.get(slot.field), list):
            chosen[slot.field].append(value)
        else:
            chosen[slot.field] = value
    for key, (_, is_list) in SLOT_KINDS.items():
        if is_list:
            chosen[key] = tuple(chosen[key])
    return TrialConfig(
        epochs=spec.training.epochs,
        batch_size=batch_size,
        **chosen,
    )


def default_params(spec: Spec, catalog: Catalog) -> dict[str, Any]:
    """The known-good configuration, as Optuna parameters: the first option of every choice
    slot and every searched parameter at its component's declared default, moved into the
    file's range (the nearest value it allows). Fixed parameters are not Optuna parameters.
    """
    params: dict[str, Any] = {}
    if isinstance(spec.training.batch_size, BaseDistribution):
        params["training.batch_size"] = nearest(spec.training.batch_size, DEFAULT_BATCH_SIZE)
    for slot in spec.slots:
        option = slot.options[0]
        if slot.is_choice:
            params[slot.key] = option.name
        component = catalog[slot.kind].get(option.name)
        declared = {p.name: p.default for p in component.params}
        for key, value in option.params.items():
            if is_searched(value):
                params[f"{slot.key}.{option.name}.{key}"] = nearest(value, declared.get(key))
    return params


def nearest(dist: BaseDistribution, value: Any) -> Any:
    """The value of `dist` nearest to `value`: itself when allowed, else clipped into the range
    (on its step grid), or the first choice of a categorical it is not among."""
    if isinstance(dist, CategoricalDistribution):
        return value if value in dist.choices else dist.choices[0]
    if not isinstance(dist, IntDistribution | FloatDistribution):
        raise TypeError(f"unsupported distribution {dist!r}")
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else dist.low
    number = min(max(number, dist.low), dist.high)
    if dist.step is not None:
        steps = round((number - dist.low) / dist.step)
        number = min(dist.low + steps * dist.step, dist.high)
    return round(number) if isinstance(dist, IntDistribution) else float(number)


def describe_space(spec: Spec) -> list[dict[str, Any]]:
    """Rows for `automl space`: every parameter, fixed or searched, and the plugin supplying it."""

    def row(name: str, value: Any, plugin: str) -> dict[str, Any]:
        return {
            "name": name,
            "searched": is_searched(value),
            "range": describe(value),
            "plugin": plugin,
        }

    rows = [
        row("training.batch_size", spec.training.batch_size, "automl"),
        {
            **row("training.epochs", spec.training.epochs, "automl"),
            "range": str(spec.training.epochs),
        },
    ]
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
                rows.append(row(f"{slot.key}.{option.name}.{key}", value, option.plugin))
    return rows
