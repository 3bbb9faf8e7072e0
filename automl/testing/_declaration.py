"""The static part of the contract: kind, name, help, tasks, parameters and their default ranges."""

from __future__ import annotations

import re

from automl.components import KINDS, TASKS, Component, Param
from automl.testing._common import fail

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
PARAM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PARAM_TYPES = ("int", "float", "categorical", "bool", "str", "list")


def check_declaration(component: Component) -> None:
    """Check the static part: kind, name, help, tasks, parameters and their default ranges."""
    base = KINDS.get(component.kind)
    if base is None or not isinstance(component, base):
        raise fail(
            component,
            f"expected an instance of one of {', '.join(c.__name__ for c in KINDS.values())}. "
            f"Received: {type(component).__mro__[1:]}",
        )
    if not isinstance(component.name, str) or not NAME_RE.match(component.name):
        raise fail(
            component,
            "expected a name of letters, digits, `_` or `-` (it is a YAML key and part of "
            f"Optuna parameter names). Received: name={component.name!r}",
        )
    if not isinstance(component.help, str) or not component.help.strip() or "\n" in component.help:
        raise fail(component, f"expected a one-line `help`. Received: help={component.help!r}")
    tasks = tuple(component.tasks)
    if not tasks or any(t not in TASKS for t in tasks):
        raise fail(
            component, f"expected `tasks` to be a non-empty subset of {TASKS}. Received: {tasks}"
        )
    direction = getattr(component, "direction", None)
    if component.kind == "metric" and direction not in ("maximize", "minimize"):
        raise fail(
            component, f"expected direction 'maximize' or 'minimize'. Received: {direction!r}"
        )
    names = [p.name for p in component.params]
    if len(set(names)) != len(names):
        raise fail(component, f"expected unique parameter names. Received: {names}")
    for p in component.params:
        _check_param(component, p)


def _check_param(component: Component, p: Param) -> None:
    """One parameter: its name, type, help and default value."""
    where = f"parameter {p.name!r}"
    if not isinstance(p, Param):
        raise fail(component, f"expected `params` to hold Param objects. Received: {p!r}")
    if not PARAM_RE.match(p.name):
        raise fail(
            component,
            f"expected a parameter name that is a Python identifier. Received: {p.name!r}",
        )
    if p.type not in PARAM_TYPES:
        raise fail(component, f"{where}: unknown type. Received: type={p.type!r}")
    if not p.help:
        raise fail(component, f"{where}: expected a one-line `help`. Received: help={p.help!r}")
    problem = p.check_value(p.default)
    if problem:
        raise fail(component, f"{where}: the default value is invalid: {problem}")
    if p.type == "categorical" and p.choices is not None and p.default not in p.choices:
        raise fail(
            component,
            f"{where}: expected the default among the choices {list(p.choices)}. "
            f"Received: default={p.default!r}",
        )
    _check_range(component, p, where)


def _check_range(component: Component, p: Param, where: str) -> None:
    """A parameter's default search range: both ends, ordered, inside the bounds."""
    if p.type in ("int", "float") and (p.low is None) != (p.high is None):
        raise fail(
            component,
            f"{where}: expected both `low` and `high` or neither. "
            f"Received: low={p.low}, high={p.high}",
        )
    if p.low is None or p.high is None:
        return
    if not p.low <= p.high:
        raise fail(
            component, f"{where}: `low <= high` must hold, but got (low={p.low}, high={p.high})"
        )
    if p.log and p.low <= 0:
        raise fail(component, f"{where}: a log range needs `low > 0`. Received: low={p.low}")
    if p.step is not None and p.step <= 0:
        raise fail(component, f"{where}: expected `step > 0`. Received: step={p.step}")
    for end in (p.low, p.high):
        problem = p.check_value(int(end) if p.type == "int" else end)
        if problem:
            raise fail(component, f"{where}: the default range leaves the bounds: {problem}")
