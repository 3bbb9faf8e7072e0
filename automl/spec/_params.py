"""A component parameter as written in YAML -> a fixed value or an Optuna distribution.

Ranges use Optuna's own words and types (`optuna.distributions`): `{low, high[, log | step]}`
becomes an `IntDistribution` or `FloatDistribution` (the parameter's declared type decides), a
list or `{choices: [...]}` a `CategoricalDistribution`.
"""

from __future__ import annotations

import math
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from automl.components import Param
from automl.spec._problems import Problems, YamlPath

RANGE_KEYS = ("low", "high", "log", "step")


def is_searched(value: Any) -> bool:
    """True for an Optuna distribution (a searched parameter), False for a fixed value."""
    return isinstance(value, BaseDistribution)


def to_yaml(value: Any) -> Any:
    """The YAML form of a fixed value or a distribution (what the space hash covers)."""
    if isinstance(value, CategoricalDistribution):
        return list(value.choices)
    if isinstance(value, IntDistribution | FloatDistribution):
        out: dict[str, Any] = {"low": value.low, "high": value.high}
        if value.log:
            out["log"] = True
        if value.step is not None and not (isinstance(value, IntDistribution) and value.step == 1):
            out["step"] = value.step
        return out
    return value


def describe(value: Any) -> str:
    """`int [16, 128] log`, `float [0, 0.5] step 0.1`, `one of [32, 64]`, or the fixed value."""
    if isinstance(value, CategoricalDistribution):
        return f"one of {list(value.choices)}"
    if isinstance(value, IntDistribution | FloatDistribution):
        kind = "int" if isinstance(value, IntDistribution) else "float"
        text = f"{kind} [{value.low:g}, {value.high:g}]"
        if value.log:
            text += " log"
        if value.step is not None and not (kind == "int" and value.step == 1):
            text += f" step {value.step:g}"
        return text
    return repr(value)


def default_value(param: Param) -> Any:
    """What a parameter the file leaves out becomes: its default range, else its default value."""
    if not param.searched_by_default:
        return param.default
    if param.type == "categorical":
        return CategoricalDistribution(tuple(param.choices or ()))
    return _numeric(param, param.low, param.high, param.log, param.step)


def _numeric(param: Param, low: Any, high: Any, log: bool, step: Any) -> BaseDistribution:
    if param.type == "int":
        return IntDistribution(int(low), int(high), log=log, step=int(step or 1))
    return FloatDistribution(float(low), float(high), log=log, step=step)


def parse_param(problems: Problems, path: YamlPath, param: Param, value: Any) -> Any:
    """A YAML value -> fixed value or distribution; problems are recorded, None returned."""
    if isinstance(value, list) and param.type != "list":  # a list parameter's value is a list
        return _choices(problems, path, param, value)
    if isinstance(value, dict):
        if "choices" in value:
            extra = set(value) - {"choices"}
            if extra:
                problems.add(path, f"`choices` cannot be combined with {sorted(extra)}")
            return _choices(problems, (*path, "choices"), param, value["choices"])
        return _range(problems, path, param, value)
    why = param.check_value(value)
    if why:
        problems.add(path, why)
        return None
    return value


def _choices(problems: Problems, path: YamlPath, param: Param, value: Any) -> Any:
    if not isinstance(value, list) or not value:
        problems.add(path, f"expected a non-empty list of choices, got {value!r}")
        return None
    ok = True
    for i, item in enumerate(value):
        why = param.check_value(item)
        if why:
            problems.add((*path, i), why)
            ok = False
    return CategoricalDistribution(tuple(value)) if ok else None


def _range(problems: Problems, path: YamlPath, param: Param, value: dict[str, Any]) -> Any:
    for key in value:
        if key not in RANGE_KEYS:
            problems.unknown_key(path, key, (*RANGE_KEYS, "choices"))
    if param.type not in ("int", "float"):
        problems.add(path, f"a range needs a numeric parameter; {param.name!r} is {param.type}")
        return None
    if "low" not in value or "high" not in value:
        problems.add(path, f"a range needs both `low` and `high`, got {value}")
        return None
    low, high = value["low"], value["high"]
    log, step = value.get("log", False), value.get("step")
    if not _range_values_ok(problems, path, param, low, high, log, step):
        return None
    why = _range_rule(param, low, high, log, step)
    if why:
        problems.add(path, why)
        return None
    return _numeric(param, low, high, log, step)


def _range_values_ok(
    problems: Problems, path: YamlPath, param: Param, low: Any, high: Any, log: Any, step: Any
) -> bool:
    ok = True
    for key, bound in (("low", low), ("high", high)):
        why = param.check_value(bound)
        if why:
            problems.add((*path, key), why)
            ok = False
    if not isinstance(log, bool):
        problems.add((*path, "log"), f"expected true or false, got {log!r}")
        ok = False
    bad_step = isinstance(step, bool) or not isinstance(step, int | float) or step <= 0
    if step is not None and bad_step:
        problems.add((*path, "step"), f"expected a positive number, got {step!r}")
        ok = False
    if step is not None and param.type == "int" and not bad_step and step != int(step):
        problems.add((*path, "step"), f"expected a whole number for an int range, got {step!r}")
        ok = False
    return ok


def _range_rule(param: Param, low: Any, high: Any, log: bool, step: Any) -> str | None:
    """Optuna's rules for a range, said in Optuna's words, checked before Optuna would raise."""
    if low > high:
        return f"`low <= high` must hold, but got (low={low}, high={high})"
    if log and low <= 0:
        return f"`low > 0` must hold for a log range, but got (low={low})"
    if log and step is not None:
        return "`step` and `log` cannot be used together (Optuna does not support it)"
    if step is not None:
        count = (high - low) / step
        if not math.isclose(count, round(count), rel_tol=0, abs_tol=1e-9):
            return (
                f"`step` must divide `high - low`, but got (low={low}, high={high}, step={step}); "
                f"e.g. high={low + math.floor(count) * step:g}"
            )
    return None
