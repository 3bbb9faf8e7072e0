"""The `Param` declaration of a component parameter, and the helpers that declare each type.

A component declares its parameters (name, type, default value, default search range, help) so
that a YAML file may omit them, `automl space` can print them and validation can check overrides.
`automl.components` re-exports everything here: plugins import `int_param` and friends from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

ParamType = Literal["int", "float", "categorical", "bool", "str", "list"]


@dataclass(frozen=True)
class Param:
    """A component parameter: its type, default value, default search range and help.

    A YAML file that names the component without this parameter gets the default search range when
    one is declared (`low`/`high` or `choices`), else the fixed `default`.

    Args:
        name: the key used in YAML and in `build(..., **params)`.
        type: one of "int", "float", "categorical", "bool", "str", "list" (a fixed list of
            strings, e.g. column names: never searched).
        default: the value used when the parameter is fixed and not given.
        help: one line for `automl space` and `automl plugins`.
        low, high, log, step: the default numeric search range. Defaults to `None` (not searched).
        choices: the default categorical choices, or the allowed values of a "str" parameter.
        bounds: the closed interval every value must lie in (validated). Defaults to `None`.
        path: the value may be a file: a string with a file suffix (`w.weights.h5`) is a path,
            made relative to the YAML file and checked to exist at validate time, like a data
            source's `path`. Defaults to `False`.
    """

    name: str
    type: ParamType
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] | None = None
    bounds: tuple[float | None, float | None] | None = None
    path: bool = False

    @property
    def searched_by_default(self) -> bool:
        """True when the plugin declared a default search range for this parameter."""
        if self.type == "categorical":
            return self.choices is not None and len(self.choices) > 1
        return self.low is not None and self.high is not None

    def default_range(self) -> dict[str, Any] | list[Any] | None:
        """The default search range in YAML form (a dict for numbers, a list for choices)."""
        if not self.searched_by_default:
            return None
        if self.type == "categorical":
            return list(self.choices or ())
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out

    def check_value(self, value: Any) -> str | None:
        """Return why `value` is not acceptable for this parameter, or None when it is."""
        if self.type == "bool":
            return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
        if self.type == "list":
            if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                return None
            return f"expected a list of names, got {value!r}"
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                return f"expected an integer, got {value!r}"
        elif self.type == "float":
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                return f"expected a number, got {value!r}"
        elif self.type == "str" and self.choices is not None and value not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            return f"expected one of {allowed}, got {value!r}"
        if (
            self.bounds is not None
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            lo, hi = self.bounds
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                return f"expected a value in [{_fmt(lo, '-inf')}, {_fmt(hi, 'inf')}], got {value!r}"
        return None


def _fmt(bound: float | None, unbounded: str) -> str:
    return unbounded if bound is None else f"{bound:g}"


def int_param(name: str, default: int, help: str, **kw: Any) -> Param:
    """Declare an integer parameter (see `Param`)."""
    return Param(name, "int", default, help, **kw)


def float_param(name: str, default: float, help: str, **kw: Any) -> Param:
    """Declare a float parameter (see `Param`)."""
    return Param(name, "float", default, help, **kw)


def choice_param(name: str, default: Any, help: str, choices: Sequence[Any] | None = None) -> Param:
    """Declare a categorical parameter searched over `choices` by default."""
    return Param(name, "categorical", default, help, choices=tuple(choices) if choices else None)


def str_param(name: str, default: str, help: str, allowed: Sequence[str] | None = None) -> Param:
    """Declare a fixed string parameter; `allowed` lists the accepted values."""
    return Param(name, "str", default, help, choices=tuple(allowed) if allowed else None)


def list_param(name: str, help: str) -> Param:
    """Declare a fixed list of strings (e.g. column names), empty by default; never searched."""
    return Param(name, "list", [], help)


def bool_param(name: str, default: bool, help: str) -> Param:
    """Declare a boolean parameter."""
    return Param(name, "bool", default, help)
