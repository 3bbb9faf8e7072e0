"""YAML search space -> typed, frozen `Spec`.

Every problem is collected (not just the first), each with its YAML path and line, what was
expected and what was found; a misspelled name suggests the closest one. The fixed sections
(`study`, `data`, `training`) are checked by a pydantic schema; component slots are checked against
the plugin registries, since plugins decide which names and parameters exist.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from automl.components import Component, Param
from automl.errors import AutoMLError, Problem, SpecError
from automl.plugins import Catalog, load_catalog
from automl.registry import KIND_TITLES, closest, unknown_message

YamlPath = tuple[str | int, ...]

# ------------------------------------------------------------------------------ YAML with lines


class _LineLoader(yaml.SafeLoader):
    """Safe loader that records the line of every mapping key and sequence item."""


def load_yaml_with_lines(text: str, source: str = "") -> tuple[Any, dict[YamlPath, int]]:
    """Parse YAML; return the data and a map from each path to its 1-based line number."""
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([Problem("", f"YAML syntax error: {problem}", line)], source) from None
    if node is None:
        return {}, {}
    lines: dict[YamlPath, int] = {}
    problems: list[Problem] = []

    def walk(n: yaml.Node, path: YamlPath) -> None:
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in n.value:
                key = key_node.value
                if key in seen:
                    problems.append(
                        Problem(
                            _dotted((*path, key)), "duplicate key", key_node.start_mark.line + 1
                        )
                    )
                seen.add(key)
                lines[(*path, key)] = key_node.start_mark.line + 1
                walk(value_node, (*path, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                lines[(*path, i)] = item.start_mark.line + 1
                walk(item, (*path, i))

    walk(node, ())
    if problems:
        raise SpecError(problems, source)
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    return data, lines


def _dotted(path: YamlPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ------------------------------------------------------------------------------------ durations
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> float | None:
    """`90`, `"90s"`, `"20m"`, `"1.5h"` -> seconds; None stays None."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"expected a positive duration, got {value!r}")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"expected a duration such as 90, '90s', '20m' or '1h', got {value!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


# ------------------------------------------------------------------------- distributions, slots
@dataclass(frozen=True)
class Dist:
    """A searched parameter: an int/float range or a categorical choice (Optuna's words)."""

    kind: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def to_yaml(self) -> Any:
        """The YAML form of this range."""
        if self.kind == "categorical":
            return list(self.choices)
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out

    def describe(self) -> str:
        """`int [16, 128] log`, `float [0, 0.5] step 0.1`, `one of [32, 64]`."""
        if self.kind == "categorical":
            return f"one of {list(self.choices)}"
        text = f"{self.kind} [{self.low:g}, {self.high:g}]"
        if self.log:
            text += " log"
        if self.step is not None:
            text += f" step {self.step:g}"
        return text


@dataclass(frozen=True)
class Option:
    """One component a slot may choose, with each parameter fixed or searched."""

    name: str
    params: dict[str, Any]  # name -> fixed value or Dist
    plugin: str = ""


@dataclass(frozen=True)
class Slot:
    """A place in the pipeline filled by one component of `kind`, fixed or chosen among options.

    `key` is the Optuna namespace: the choice is the parameter `key`, and option parameters are
    `key.<option>.<param>`, so each Optuna name always has the same distribution.
    """

    key: str
    kind: str
    options: tuple[Option, ...]

    @property
    def is_choice(self) -> bool:
        """True when several components compete for this slot."""
        return len(self.options) > 1


@dataclass(frozen=True)
class Sampler:
    """An Optuna sampler or pruner by short name, with its keyword options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudySpec:
    """The `study:` section."""

    name: str
    metric: str
    direction: str
    trials: int
    timeout: float | None
    sampler: Sampler
    pruner: Sampler
    seed: int | None
    storage: str | None
    keep_checkpoints: int
    isolation: str = "none"
    recycle_after: int | None = None


@dataclass(frozen=True)
class DataSpec:
    """The `data:` section."""

    source: str
    source_params: dict[str, Any]
    validation: float
    test: float
    stratify: bool
    task: str | None
    limit: int | None


@dataclass(frozen=True)
class EarlyStoppingSpec:
    """Early stopping settings; `monitor: score` watches the chosen metric on validation."""

    monitor: str
    patience: int
    min_delta: float


@dataclass(frozen=True)
class TrainingSpec:
    """The `training:` section. `batch_size` may be searched."""

    epochs: int
    batch_size: Any  # int or Dist
    early_stopping: EarlyStoppingSpec | None
    class_weight: str | dict[str, float] | None = None  # "balanced" or {class label: weight}


@dataclass(frozen=True)
class Spec:
    """A validated search space."""

    study: StudySpec
    data: DataSpec
    training: TrainingSpec
    slots: tuple[Slot, ...]
    plugins: tuple[str, ...] = ()
    path: str = ""
    task: str | None = None  # known before loading data when the source or the file says it
    space: dict[str, Any] = field(default_factory=dict, compare=False)  # canonical search space
    catalog: Catalog | None = field(default=None, compare=False, repr=False)

    @property
    def space_hash(self) -> str:
        """A hash of everything that defines the search space (not the budget nor the sampler)."""
        blob = json.dumps(self.space, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def slot(self, key: str) -> Slot:
        """The slot called `key`."""
        for s in self.slots:
            if s.key == key:
                return s
        raise KeyError(key)


# ---------------------------------------------------------------------------- pydantic schema
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class _EarlyStoppingModel(_Strict):
    monitor: str = "score"
    patience: int = Field(5, ge=0)
    min_delta: float = Field(0.0, ge=0)


class _StudyModel(_Strict):
    name: str | None = None
    metric: str | None = None
    trials: int = Field(20, gt=0)
    timeout: float | None = None
    sampler: str | dict[str, dict[str, Any] | None] = "tpe"
    pruner: str | dict[str, dict[str, Any] | None] = "median"
    seed: int | None = 0
    storage: str | None = None
    keep_checkpoints: int = Field(3, ge=1)
    # `process`: each trial runs in a fresh subprocess (memory is returned after every trial)
    isolation: Literal["none", "process"] = "none"
    # worker processes exit and are replaced after this many trials (bounds slow memory growth)
    recycle_after: int | None = Field(None, gt=0)

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float | None:
        return parse_duration(value)


class _DataModel(_Strict):
    source: str | dict[str, dict[str, Any] | None]
    validation: float = Field(0.2, gt=0, lt=1)
    test: float = Field(0.2, ge=0, lt=1)
    stratify: bool = True
    task: Literal["binary", "multiclass", "regression"] | None = None
    limit: int | None = Field(None, gt=0)


class _TrainingModel(_Strict):
    epochs: int = Field(20, gt=0)
    batch_size: int | list[int] | dict[str, Any] = 32
    early_stopping: _EarlyStoppingModel | Literal[False] | None = Field(
        default_factory=_EarlyStoppingModel
    )
    # `balanced` weights each class by n / (k * count) in the loss, for imbalanced data
    class_weight: Literal["balanced"] | dict[str, float] | None = None


SAMPLERS = {
    "tpe": "TPESampler",
    "random": "RandomSampler",
    "grid": "GridSampler",
    "cmaes": "CmaEsSampler",
    "gp": "GPSampler",
    "qmc": "QMCSampler",
}
PRUNERS = {
    "none": "NopPruner",
    "median": "MedianPruner",
    "percentile": "PercentilePruner",
    "successive_halving": "SuccessiveHalvingPruner",
    "hyperband": "HyperbandPruner",
    "patient": "PatientPruner",
    "threshold": "ThresholdPruner",
}
TOP_KEYS = (
    "study",
    "data",
    "training",
    "preprocessors",
    "model",
    "activation",
    "loss",
    "optimizer",
    "regularizer",
    "regularizers",
    "plugins",
)
# slot key -> (component kind, may be a list of steps, default)
SLOT_KINDS: dict[str, tuple[str, bool, Any]] = {
    "preprocessors": ("preprocessor", True, []),
    "model": ("model_family", False, None),
    "activation": ("activation", False, "relu"),
    "loss": ("loss", False, None),
    "optimizer": ("optimizer", False, "adam"),
    "regularizers": ("regularizer", True, []),
}


class _Checker:
    """Collects problems with their lines while a spec is read."""

    def __init__(self, lines: dict[YamlPath, int], source: str) -> None:
        self.lines = lines
        self.source = source
        self.problems: list[Problem] = []

    def line(self, path: YamlPath) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def add(self, path: YamlPath, message: str) -> None:
        self.problems.append(Problem(_dotted(path), message, self.line(path)))

    def unknown_key(self, path: YamlPath, key: str, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        hint = closest(str(key), allowed)
        did = f"; did you mean {hint!r}?" if hint else "."
        self.add((*path, key), f"unknown key {key!r}{did} Expected one of: {', '.join(allowed)}")


def _pydantic_section(
    check: _Checker, model: type[_Strict], raw: Any, path: YamlPath
) -> _Strict | None:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        check.add(path, f"expected a mapping, got {type(raw).__name__} {raw!r}")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
            full = path + loc
            if err["type"] == "extra_forbidden":
                check.unknown_key(full[:-1], str(full[-1]), model_fields(model, loc[:-1]))
            elif err["type"] == "missing":
                check.add(full, "required key is missing")
            else:
                check.add(full, f"{_expectation(err)}, got {err.get('input')!r}")
    return None


_PYDANTIC_EXPECTATIONS = {
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "dict_type": "expected a mapping",
    "list_type": "expected a list",
    "literal_error": "expected {expected}",
    "greater_than": "expected a value > {gt}",
    "greater_than_equal": "expected a value >= {ge}",
    "less_than": "expected a value < {lt}",
    "less_than_equal": "expected a value <= {le}",
}


def _expectation(err: Any) -> str:
    """`expected a value > 0` from a pydantic error (its own message when unknown)."""
    if err["type"] == "value_error":
        return str(err["msg"]).removeprefix("Value error, ").split(", got ")[0]
    template = _PYDANTIC_EXPECTATIONS.get(err["type"])
    if template is None:
        msg = str(err["msg"])
        return f"expected: {msg[0].lower()}{msg[1:]}"
    return template.format(**err.get("ctx", {}))


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts the union member tried ("str", "dict[str,...]", "literal[False]") into loc
    return isinstance(part, str) and (
        part in {"str", "int", "float", "bool", "list[int]", "none"}
        or part.startswith(("dict[", "literal[", "list[", "_"))
        or part.startswith("function-")
    )


def model_fields(model: type[BaseModel], sub: tuple[Any, ...]) -> list[str]:
    """Field names of `model`, or of the nested model at `sub` (for unknown-key hints)."""
    current: Any = model
    for part in sub:
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            break
        annotation = fields[part].annotation
        candidates = [
            a for a in getattr(annotation, "__args__", (annotation,)) if hasattr(a, "model_fields")
        ]
        current = candidates[0] if candidates else annotation
    return list(getattr(current, "model_fields", {}))


# --------------------------------------------------------------------------------- param values
def _parse_param(check: _Checker, path: YamlPath, param: Param, value: Any) -> Any:
    """A YAML parameter value -> a fixed value or a `Dist` (appends problems when invalid)."""
    if isinstance(value, list):
        if not value:
            check.add(path, "expected a non-empty list of choices, got []")
            return None
        for i, item in enumerate(value):
            why = param.check_value(item)
            if why:
                check.add((*path, i), why)
        return Dist("categorical", choices=tuple(value))
    if isinstance(value, dict):
        if "choices" in value:
            extra = set(value) - {"choices"}
            if extra:
                check.add(path, f"`choices` cannot be combined with {sorted(extra)}")
            return _parse_param(check, (*path, "choices"), param, value["choices"])
        allowed = ("low", "high", "log", "step")
        for key in value:
            if key not in allowed:
                check.unknown_key(path, key, (*allowed, "choices"))
        if param.type not in ("int", "float"):
            check.add(path, f"a range needs a numeric parameter; {param.name!r} is {param.type}")
            return None
        if "low" not in value or "high" not in value:
            check.add(path, f"a range needs both `low` and `high`, got {value}")
            return None
        low, high = value["low"], value["high"]
        log, step = value.get("log", False), value.get("step")
        ok = True
        for key, bound in (("low", low), ("high", high)):
            why = param.check_value(bound)
            if why:
                check.add((*path, key), why)
                ok = False
        if not isinstance(log, bool):
            check.add((*path, "log"), f"expected true or false, got {log!r}")
            ok = False
        if step is not None and (
            isinstance(step, bool) or not isinstance(step, int | float) or step <= 0
        ):
            check.add((*path, "step"), f"expected a positive number, got {step!r}")
            ok = False
        if not ok:
            return None
        if low > high:
            check.add(path, f"`low <= high` must hold, but got (low={low}, high={high})")
            return None
        if log and low <= 0:
            check.add(path, f"`low > 0` must hold for a log range, but got (low={low})")
            return None
        if log and step is not None:
            check.add(path, "`step` and `log` cannot be used together (Optuna does not support it)")
            return None
        kind: Literal["int", "float"] = "int" if param.type == "int" else "float"
        return Dist(kind, low=low, high=high, log=bool(log), step=step)
    why = param.check_value(value)
    if why:
        check.add(path, why)
        return None
    return value


def _default_value(param: Param) -> Any:
    if not param.searched_by_default:
        return param.default
    if param.type == "categorical":
        return Dist("categorical", choices=tuple(param.choices or ()))
    kind: Literal["int", "float"] = "int" if param.type == "int" else "float"
    return Dist(kind, low=param.low, high=param.high, log=param.log, step=param.step)


def _option(
    check: _Checker, catalog: Catalog, kind: str, path: YamlPath, name: Any, raw: Any
) -> Option | None:
    registry = catalog[kind]
    if not isinstance(name, str):
        check.add(path, f"expected a {KIND_TITLES[kind]} name, got {name!r}")
        return None
    if name not in registry:
        message = unknown_message(kind, name, registry.names())
        broken = [p.name for p in catalog.broken()]
        if broken:
            message += f" (plugins that failed to load: {', '.join(broken)})"
        check.add(path, message)
        return None
    component: Component = registry.get(name)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        check.add(path, f"expected a mapping of parameters (or {{}}), got {raw!r}")
        return None
    declared = {p.name: p for p in component.params}
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in declared:
            hint = closest(str(key), list(declared))
            did = f"; did you mean {hint!r}?" if hint else "."
            names = ", ".join(declared) or "(none)"
            check.add(
                (*path, key),
                f"{KIND_TITLES[kind]} {name!r} has no parameter {key!r}{did} Parameters: {names}",
            )
            continue
        params[key] = _parse_param(check, (*path, key), declared[key], value)
    for p in component.params:
        params.setdefault(p.name, _default_value(p))
    return Option(name, params, registry.owner(name))


def _slot(
    check: _Checker, catalog: Catalog, key: str, kind: str, path: YamlPath, raw: Any
) -> Slot | None:
    """A slot value: `name`, `[name, ...]` (choice) or `{name: params, ...}` (choice)."""
    options: list[Option | None] = []
    if isinstance(raw, str):
        options.append(_option(check, catalog, kind, path, raw, {}))
    elif isinstance(raw, list):
        if not raw:
            check.add(path, f"expected at least one {KIND_TITLES[kind]}, got []")
            return None
        for i, item in enumerate(raw):
            if isinstance(item, dict) and len(item) == 1:
                ((name, params),) = item.items()
                options.append(_option(check, catalog, kind, (*path, i, name), name, params))
            else:
                options.append(_option(check, catalog, kind, (*path, i), item, {}))
    elif isinstance(raw, dict):
        if not raw:
            check.add(path, f"expected at least one {KIND_TITLES[kind]}, got {{}}")
            return None
        for name, params in raw.items():
            options.append(_option(check, catalog, kind, (*path, name), name, params))
    else:
        check.add(
            path,
            f"expected a {KIND_TITLES[kind]} name, a list of names or a mapping of "
            f"name: parameters, got {raw!r}",
        )
        return None
    if any(o is None for o in options):
        return None
    names = [o.name for o in options if o]
    if len(set(names)) != len(names):
        check.add(path, f"a choice lists the same component twice: {names}")
        return None
    return Slot(key, kind, tuple(o for o in options if o))


def _sampler(check: _Checker, path: YamlPath, raw: Any, table: dict[str, str]) -> Sampler:
    import optuna

    if isinstance(raw, str):
        name, options = raw, {}
    elif isinstance(raw, dict) and len(raw) == 1:
        ((name, options),) = raw.items()
        options = options or {}
    else:
        check.add(path, f"expected a name or {{name: {{options}}}}, got {raw!r}")
        return Sampler("invalid")
    if name not in table:
        hint = closest(name, list(table))
        did = f"; did you mean {hint!r}?" if hint else "."
        check.add(path, f"unknown {path[-1]} {name!r}{did} Available: {', '.join(table)}")
        return Sampler(name, options)
    module = optuna.samplers if table is SAMPLERS else optuna.pruners
    cls = getattr(module, table[name])
    accepted = [p for p in inspect.signature(cls).parameters if p != "self"]
    for key in options:
        if key not in accepted:
            check.unknown_key((*path, name), key, accepted)
    return Sampler(name, dict(options))


# ----------------------------------------------------------------------------------- load_spec
def read_yaml(path: str | Path) -> tuple[dict[str, Any], dict[YamlPath, int]]:
    """Read a search-space file; a missing file or a non-mapping top level is a SpecError."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError([Problem("", f"cannot read the file: {exc.strerror}")], str(path)) from None
    data, lines = load_yaml_with_lines(text, str(path))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(
            [Problem("", f"expected a mapping at the top level, got {data!r}", 1)], str(path)
        )
    return data, lines


def load_spec(
    path: str | Path, plugins: Iterable[str] = (), catalog: Catalog | None = None
) -> Spec:
    """Read and validate a search-space file.

    Args:
        path: the YAML file.
        plugins: extra local plugins (`--plugin`), added to the file's own `plugins:` list.
        catalog: registries to validate against. Defaults to `None`: built from the plugins.
    """
    data, lines = read_yaml(path)
    return spec_from_dict(data, lines, str(path), plugins, catalog)


def spec_from_dict(
    data: dict[str, Any],
    lines: dict[YamlPath, int] | None = None,
    source: str = "",
    plugins: Iterable[str] = (),
    catalog: Catalog | None = None,
) -> Spec:
    """Validate an already-parsed search space (see `load_spec`)."""
    check = _Checker(lines or {}, source)
    for key in data:
        if key not in TOP_KEYS:
            check.unknown_key((), key, TOP_KEYS)
    file_plugins = data.get("plugins") or []
    if not isinstance(file_plugins, list) or not all(isinstance(p, str) for p in file_plugins):
        check.add(
            ("plugins",), f"expected a list of plugin modules or .py paths, got {file_plugins!r}"
        )
        file_plugins = []
    base_dir = Path(source).parent if source else Path(".")
    resolved_plugins = [
        str(base_dir / p) if p.endswith(".py") and not Path(p).is_absolute() else p
        for p in file_plugins
    ]
    all_plugins = (*resolved_plugins, *plugins)
    if catalog is None:
        catalog = load_catalog(all_plugins)

    study = _pydantic_section(check, _StudyModel, data.get("study"), ("study",))
    if "data" not in data:
        check.add(
            ("data",), "required key is missing (e.g. data: {source: {sklearn: {name: digits}}})"
        )
        data_section = None
    else:
        data_section = _pydantic_section(check, _DataModel, data.get("data"), ("data",))
    training = _pydantic_section(check, _TrainingModel, data.get("training"), ("training",))

    # data source
    source_option: Option | None = None
    task: str | None = None
    if isinstance(data_section, _DataModel):
        raw_source = data_section.source
        if isinstance(raw_source, str):
            raw_source = {raw_source: {}}
        if len(raw_source) != 1:
            check.add(
                ("data", "source"), f"expected exactly one data source, got {list(raw_source)}"
            )
        else:
            ((source_name, source_params),) = raw_source.items()
            source_option = _option(
                check,
                catalog,
                "data_source",
                ("data", "source", source_name),
                source_name,
                source_params,
            )
            for key, value in source_option.params.items() if source_option else ():
                if isinstance(value, Dist):
                    check.add(
                        ("data", "source", source_name, key),
                        "data source parameters cannot be searched",
                    )
            if source_option is not None:  # a relative data file path is relative to the YAML file
                source_option = _resolve_data_path(source_option, base_dir)
        task = data_section.task
        if task is None and source_option is not None and not check.problems:
            try:
                task = catalog["data_source"].get(source_option.name).task(**source_option.params)
            except AutoMLError as exc:  # the source's own message: missing file, target column...
                check.add(("data", "source", source_option.name), str(exc))
            except Exception:
                task = None

    # component slots
    slots: list[Slot] = []
    if "regularizer" in data and "regularizers" in data:
        check.add(
            ("regularizers",),
            "give either `regularizer` (one) or `regularizers` (a list), not both",
        )
    for key, (kind, is_list, default) in SLOT_KINDS.items():
        yaml_key = key
        raw = data.get(key, default)
        if key == "regularizers" and "regularizer" in data:
            yaml_key, raw = "regularizer", [data["regularizer"]]
        elif key == "loss" and raw is None:
            raw = _default_loss(task)
        if raw is None:
            if key == "model":
                check.add(("model",), "required key is missing (e.g. model: {mlp: {}})")
            elif key == "loss" and isinstance(data_section, _DataModel) and not check.problems:
                check.add(
                    ("loss",),
                    "required when the task is not known before loading the data "
                    "(set data.task or loss)",
                )
            continue
        if is_list:
            steps = raw if isinstance(raw, list) else [raw]
            for i, step in enumerate(steps):
                step_path: YamlPath = (yaml_key,) if yaml_key == "regularizer" else (yaml_key, i)
                slot = _slot(check, catalog, f"{key}.{i}", kind, step_path, step)
                if slot:
                    slots.append(slot)
        else:
            slot = _slot(check, catalog, key, kind, (key,), raw)
            if slot:
                slots.append(slot)

    # metric, direction, task fit
    metric_name = "accuracy" if task != "regression" else "rmse"
    direction = "maximize"
    raw_study = data.get("study") if isinstance(data.get("study"), dict) else {}
    raw_metric = raw_study.get("metric")
    if isinstance(raw_metric, str):
        metric_name = raw_metric
        if metric_name not in catalog["metric"]:
            check.add(
                ("study", "metric"),
                unknown_message("metric", metric_name, catalog["metric"].names()),
            )
    if metric_name in catalog["metric"]:
        direction = catalog["metric"].get(metric_name).direction
    if task is not None:
        _check_task_fit(check, catalog, task, metric_name, slots)

    sampler = Sampler("tpe")
    pruner = Sampler("median")
    if isinstance(study, _StudyModel):
        sampler = _sampler(check, ("study", "sampler"), study.sampler, SAMPLERS)
        pruner = _sampler(check, ("study", "pruner"), study.pruner, PRUNERS)

    batch_size: Any = 32
    if isinstance(training, _TrainingModel):
        from automl.components import int_param

        batch_size = _parse_param(
            check,
            ("training", "batch_size"),
            int_param("batch_size", 32, "", bounds=(1, None)),
            training.batch_size,
        )
        es = training.early_stopping
        if isinstance(es, _EarlyStoppingModel) and es.monitor not in ("score", "val_loss", "loss"):
            check.add(
                ("training", "early_stopping", "monitor"),
                f"expected score, val_loss or loss, got {es.monitor!r}",
            )

    if check.problems:
        raise SpecError(check.problems, source)
    assert isinstance(study, _StudyModel) and isinstance(data_section, _DataModel)
    assert isinstance(training, _TrainingModel) and source_option is not None

    es_model = training.early_stopping
    early = (
        EarlyStoppingSpec(es_model.monitor, es_model.patience, es_model.min_delta)
        if isinstance(es_model, _EarlyStoppingModel)
        else None
    )
    study_name = study.name or (Path(source).stem if source else "study")
    spec = Spec(
        study=StudySpec(
            name=study_name,
            metric=metric_name,
            direction=direction,
            trials=study.trials,
            timeout=study.timeout,
            sampler=sampler,
            pruner=pruner,
            seed=study.seed,
            storage=study.storage,
            keep_checkpoints=study.keep_checkpoints,
            isolation=study.isolation,
            recycle_after=study.recycle_after,
        ),
        data=DataSpec(
            source=source_option.name,
            source_params=dict(source_option.params),
            validation=data_section.validation,
            test=data_section.test,
            stratify=data_section.stratify,
            task=data_section.task,
            limit=data_section.limit,
        ),
        training=TrainingSpec(training.epochs, batch_size, early, training.class_weight),
        slots=tuple(slots),
        plugins=tuple(all_plugins),
        path=source,
        task=task,
        catalog=catalog,
    )
    if sampler.name == "grid":
        from automl.space import grid_search_space

        try:
            grid_search_space(spec)
        except ValueError as exc:
            line = check.line(("study", "sampler"))
            raise SpecError([Problem("study.sampler", str(exc), line)], source) from None
    return _with_space(spec)


def _resolve_data_path(option: Option, base_dir: Path) -> Option:
    """A relative `path` data source parameter, made relative to the YAML file's directory."""
    path = option.params.get("path")
    if not isinstance(path, str) or not path or Path(path).is_absolute():
        return option
    return Option(option.name, {**option.params, "path": str(base_dir / path)}, option.plugin)


def _default_loss(task: str | None) -> str | None:
    if task is None:
        return None
    return "mse" if task == "regression" else "crossentropy"


def _check_task_fit(
    check: _Checker, catalog: Catalog, task: str, metric: str, slots: list[Slot]
) -> None:
    if metric in catalog["metric"]:
        tasks = catalog["metric"].get(metric).tasks
        if task not in tasks:
            check.add(
                ("study", "metric"),
                f"metric {metric!r} does not fit a {task} task; it fits {', '.join(tasks)}",
            )
    for slot in slots:
        for option in slot.options:
            tasks = catalog[slot.kind].get(option.name).tasks
            if task not in tasks:
                path = slot.key.split(".")[0]
                check.add(
                    (path, option.name),
                    f"{KIND_TITLES[slot.kind]} {option.name!r} does not fit a {task} task; "
                    f"it fits {', '.join(tasks)}",
                )


def _yaml_value(value: Any) -> Any:
    return value.to_yaml() if isinstance(value, Dist) else value


def _with_space(spec: Spec) -> Spec:
    """Attach the canonical search space (what the hash covers) to `spec`."""
    space = {
        "metric": spec.study.metric,
        "data": {
            "source": {spec.data.source: spec.data.source_params},
            "validation": spec.data.validation,
            "test": spec.data.test,
            "stratify": spec.data.stratify,
            "task": spec.data.task,
            "limit": spec.data.limit,
        },
        "training": {
            "epochs": spec.training.epochs,
            "batch_size": _yaml_value(spec.training.batch_size),
            "early_stopping": (
                vars(spec.training.early_stopping) if spec.training.early_stopping else None
            ),
            **({"class_weight": spec.training.class_weight} if spec.training.class_weight else {}),
        },
        "slots": {
            slot.key: {
                o.name: {k: _yaml_value(v) for k, v in o.params.items()} for o in slot.options
            }
            for slot in spec.slots
        },
    }
    object.__setattr__(spec, "space", json.loads(json.dumps(space, default=str)))
    return spec


def diff_spaces(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Human-readable differences between two canonical spaces."""
    out: list[str] = []
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                out.append(f"{path}: added {new[key]!r}")
            elif key not in new:
                out.append(f"{path}: removed (was {old[key]!r})")
            else:
                out.extend(diff_spaces(old[key], new[key], path))
    elif old != new:
        out.append(f"{prefix}: was {old!r}, now {new!r}")
    return out


__all__ = [
    "AutoMLError",
    "DataSpec",
    "Dist",
    "Option",
    "Slot",
    "Spec",
    "StudySpec",
    "TrainingSpec",
    "diff_spaces",
    "load_spec",
    "load_yaml_with_lines",
    "parse_duration",
    "spec_from_dict",
]
