"""Resolve a raw search space against the plugin registries: names -> components' parameters.

Component names are checked against the registries (with "did you mean"), every parameter the file
leaves out gets the component's default range or value, slots the file leaves out get the component
each registry declares the default for the task. Whether they fit the data is `_fit`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optuna.distributions import BaseDistribution

from automl.components import Component, int_param
from automl.errors import AutoMLError, DataError
from automl.plugins import Catalog
from automl.registry import KIND_TITLES, did_you_mean, unknown_message
from automl.samplers import PRUNERS, SAMPLERS, SINGLE_OBJECTIVE_ONLY, option_names
from automl.spec._model import SLOT_KINDS, Constraint, Option, SamplerSpec, Slot
from automl.spec._params import default_value, is_searched, parse_param
from automl.spec._problems import Problems, YamlPath
from automl.spec._schema import DataModel, TrainingModel

BATCH_SIZE = int_param("batch_size", 32, "", bounds=(1, None))


def option(
    problems: Problems, catalog: Catalog, kind: str, path: YamlPath, name: Any, raw: Any
) -> Option | None:
    """One named component with its parameters parsed and the missing ones defaulted."""
    registry = catalog[kind]
    if not isinstance(name, str):
        problems.add(path, f"expected a {KIND_TITLES[kind]} name, got {name!r}")
        return None
    if name not in registry:
        message = unknown_message(kind, name, registry.names())
        broken = [p.name for p in catalog.broken()]
        if broken:
            message += f" (plugins that failed to load: {', '.join(broken)})"
        problems.add(path, message)
        return None
    component: Component = registry.get(name)
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        problems.add(path, f"expected a mapping of parameters (or {{}}), got {raw!r}")
        return None
    declared = {p.name: p for p in component.params}
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in declared:
            params[key] = parse_param(problems, (*path, key), declared[key], value)
        else:
            problems.add((*path, key), _no_such_param(kind, name, str(key), list(declared)))
    for p in component.params:
        params.setdefault(p.name, default_value(p))
    return Option(name, params, registry.owner(name))


def _no_such_param(kind: str, name: str, key: str, declared: list[str]) -> str:
    listing = ", ".join(declared) or "(none)"
    return (
        f"{KIND_TITLES[kind]} {name!r} has no parameter {key!r}{did_you_mean(key, declared)} "
        f"Parameters: {listing}"
    )


def slot(
    problems: Problems, catalog: Catalog, key: str, kind: str, path: YamlPath, raw: Any
) -> Slot | None:
    """A slot value: `name`, `[name, ...]` (a choice) or `{name: params, ...}` (a choice)."""
    title = KIND_TITLES[kind]
    entries: list[tuple[YamlPath, Any, Any]] = []
    if isinstance(raw, str):
        entries = [(path, raw, {})]
    elif isinstance(raw, list) and raw:
        for i, item in enumerate(raw):
            if isinstance(item, dict) and len(item) == 1:
                ((name, params),) = item.items()
                entries.append(((*path, i, name), name, params))
            else:
                entries.append(((*path, i), item, {}))
    elif isinstance(raw, dict) and raw:
        entries = [((*path, name), name, params) for name, params in raw.items()]
    else:
        expected = f"a {title} name, a list of names or a mapping of name: parameters"
        if isinstance(raw, list | dict):
            expected = f"at least one {title}"
        problems.add(path, f"expected {expected}, got {raw!r}")
        return None
    options = [option(problems, catalog, kind, p, n, params) for p, n, params in entries]
    chosen = [o for o in options if o is not None]
    if len(chosen) != len(options):
        return None
    names = [o.name for o in chosen]
    if len(set(names)) != len(names):
        problems.add(path, f"a choice lists the same component twice: {names}")
        return None
    return Slot(key, kind, key.split(".")[0], tuple(chosen))


def data_source(
    problems: Problems, catalog: Catalog, data: DataModel, base_dir: Path
) -> tuple[Option | None, str | None, tuple[str, ...]]:
    """The data source option (relative paths made relative to the file), the task it gives and
    its text columns (free text, which needs a text preprocessor)."""
    raw = {data.source: {}} if isinstance(data.source, str) else data.source
    if len(raw) != 1:
        problems.add(("data", "source"), f"expected exactly one data source, got {list(raw)}")
        return None, data.task, ()
    ((name, params),) = raw.items()
    path: YamlPath = ("data", "source", name)
    source = option(problems, catalog, "data_source", path, name, params)
    if source is None:
        return None, data.task, ()
    for key, value in source.params.items():
        if is_searched(value):
            problems.add((*path, key), "data source parameters cannot be searched")
    for key, relative in source.params.items():  # `path`, `validation_path`, ...
        is_path = key == "path" or key.endswith("_path")
        if is_path and isinstance(relative, str) and relative and not Path(relative).is_absolute():
            params = {**source.params, key: str(base_dir / relative)}
            source = Option(name, params, source.plugin)
    task, text = data.task, ()
    if not problems:
        component = catalog["data_source"].get(name)
        try:  # the source's own message: missing file, target column, undeclared free text...
            task = task or component.task(**source.params)
            text = tuple(component.text_columns(**source.params))
        except AutoMLError as exc:
            problems.add(path, str(exc), data=isinstance(exc, DataError))
    return source, task, text


def file_params(
    problems: Problems, catalog: Catalog, found: list[Slot], base_dir: Path
) -> list[Slot]:
    """Fixed values of parameters declared `path=True` that name a file (they have a suffix):
    made relative to the YAML file, and a problem when the file is missing."""
    out = []
    for s in found:
        head, _, index = s.key.partition(".")
        where: YamlPath = (head, int(index)) if index else (head,)
        options = []
        for o in s.options:
            params = dict(o.params)
            for p in catalog[s.kind].get(o.name).params:
                value = params.get(p.name)
                if not (p.path and isinstance(value, str) and Path(value).suffix):
                    continue
                file = Path(value) if Path(value).is_absolute() else base_dir / value
                if not file.is_file():
                    problems.add(
                        (*where, o.name, p.name),
                        f"file not found: {file} (relative paths are relative to the YAML file)",
                    )
                params[p.name] = str(file)
            options.append(Option(o.name, params, o.plugin))
        out.append(Slot(s.key, s.kind, s.field, tuple(options)))
    return out


def slots(
    problems: Problems, catalog: Catalog, data: Any, task: str | None, task_pending: bool
) -> list[Slot]:
    """Every component slot in pipeline order; slots the file leaves out get the task's default.

    Args:
        task_pending: the task is unknown only because of other problems (no extra error then).
    """
    if "regularizer" in data and "regularizers" in data:
        problems.add(
            ("regularizers",),
            "give either `regularizer` (one) or `regularizers` (a list), not both",
        )
    out: list[Slot | None] = []
    for key, (kind, is_list) in SLOT_KINDS.items():
        yaml_key, raw = key, data.get(key)
        if key == "regularizers" and "regularizer" in data:
            yaml_key, raw = "regularizer", [data["regularizer"]]
        if is_list:
            steps = [] if raw is None else raw if isinstance(raw, list) else [raw]
            for i, step in enumerate(steps):
                path: YamlPath = (yaml_key,) if yaml_key == "regularizer" else (yaml_key, i)
                out.append(slot(problems, catalog, f"{key}.{i}", kind, path, step))
            continue
        if raw is None:
            raw = _default_name(problems, catalog, kind, key, task, task_pending)
        if raw is not None:
            out.append(slot(problems, catalog, key, kind, (key,), raw))
    return [s for s in out if s is not None]


def _default_name(
    problems: Problems, catalog: Catalog, kind: str, key: str, task: str | None, pending: bool
) -> str | None:
    """The name of the registry's default component for `task`, or a problem saying why none."""
    if key == "model":
        problems.add(("model",), "required key is missing (e.g. model: {mlp: {}})")
        return None
    default = catalog[kind].default(task)
    if default is not None:
        return default.name
    if pending:
        return None
    title = KIND_TITLES[kind]
    where: YamlPath = ("study", "metric") if kind == "metric" else (key,)
    if task is None:
        problems.add(
            where,
            f"required when the task is not known before loading the data (set data.task or {key})",
        )
    else:
        available = ", ".join(c.name for c in catalog[kind] if task in c.tasks) or "(none)"
        problems.add(
            where,
            f"required: no plugin declares a default {title} for {task} tasks. "
            f"Name one; available: {available}",
        )
    return None


def metrics(
    problems: Problems, catalog: Catalog, raw_study: Any, task: str | None, pending: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The metrics (the file's, else the registry's default for the task) and their directions."""
    registry = catalog["metric"]
    raw = raw_study.get("metric") if isinstance(raw_study, dict) else None
    if raw is None:
        default = _default_name(problems, catalog, "metric", "metric", task, pending)
        return ((default,), (registry.get(default).direction,)) if default else ((), ())
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    if not all(isinstance(n, str) for n in names):
        return (), ()  # the schema reported it
    if not names:
        problems.add(("study", "metric"), "expected at least one metric, got []")
    if len(set(names)) != len(names):
        problems.add(("study", "metric"), f"a metric is listed twice: {names}")
    for i, name in enumerate(names):
        if name not in registry:
            path: YamlPath = (
                ("study", "metric", i) if isinstance(raw, list) else ("study", "metric")
            )
            problems.add(path, unknown_message("metric", name, registry.names()))
    known = [n for n in names if n in registry]
    return tuple(names), tuple(registry.get(n).direction for n in known)


def constraints(
    problems: Problems, catalog: Catalog, raw: dict[str, Any] | None
) -> tuple[Constraint, ...]:
    """`{params: {max: 100000}}` -> Constraints on registered metrics, each with min and/or max."""
    out = []
    for name, bounds in (raw or {}).items():
        path: YamlPath = ("study", "constraints", name)
        if name not in catalog["metric"]:
            problems.add(path, unknown_message("metric", name, catalog["metric"].names()))
        elif not bounds:
            problems.add(path, f"expected min and/or max, got {bounds!r}")
        elif (
            bounds.get("min") is not None
            and bounds.get("max") is not None
            and bounds["min"] > bounds["max"]
        ):
            problems.add(
                path, f"`min <= max` must hold, but got (min={bounds['min']}, max={bounds['max']})"
            )
        else:
            out.append(Constraint(name, bounds.get("min"), bounds.get("max")))
    return tuple(out)


def check_objectives(
    problems: Problems,
    catalog: Catalog,
    raw_study: Any,
    metric_names: tuple[str, ...],
    samplers: tuple[SamplerSpec, SamplerSpec],
) -> None:
    """A metric of the predictions to train against; with several metrics, a sampler that can
    run them and no pruner (Optuna cannot prune a multi-objective study)."""
    registry = catalog["metric"]
    known = [registry.get(n) for n in metric_names if n in registry]
    if known and all(m.measures == "model" for m in known):
        problems.add(
            ("study", "metric"),
            "expected at least one metric of the predictions (e.g. accuracy) to train against; "
            f"{', '.join(m.name for m in known)} measure the model, which does not change while "
            f"it trains. Received: {list(metric_names)}",
        )
    if len(metric_names) < 2:
        return
    sampler, pruner = samplers
    if sampler.name in SINGLE_OBJECTIVE_ONLY:
        able = ", ".join(n for n in SAMPLERS if n not in SINGLE_OBJECTIVE_ONLY)
        problems.add(
            ("study", "sampler"),
            f"sampler {sampler.name!r} cannot run a study of several metrics; expected one of: "
            f"{able}",
        )
    given = isinstance(raw_study, dict) and raw_study.get("pruner") is not None
    if given and pruner.name != "none":
        problems.add(
            ("study", "pruner"),
            "a study of several metrics is never pruned (Optuna's Trial.report refuses "
            f"multi-objective studies): expected no pruner or none, got {pruner.name!r}",
        )


def sampler_or_pruner(problems: Problems, what: str, raw: Any) -> SamplerSpec:
    """`tpe` or `{tpe: {options}}`, checked against Optuna's classes and their keyword options."""
    table: dict[str, type] = dict(SAMPLERS if what == "sampler" else PRUNERS)
    path: YamlPath = ("study", what)
    options: dict[str, Any]
    if isinstance(raw, str):
        name, options = raw, {}
    elif isinstance(raw, dict) and len(raw) == 1:
        ((name, options),) = raw.items()
        options = options or {}
    else:
        problems.add(path, f"expected a name or {{name: {{options}}}}, got {raw!r}")
        return SamplerSpec("invalid")
    if name not in table:
        problems.add(
            path,
            f"unknown {what} {name!r}{did_you_mean(name, table)} Available: {', '.join(table)}",
        )
        return SamplerSpec(name, options)
    accepted = option_names(table[name])
    for key in options:
        if key not in accepted:
            problems.unknown_key((*path, name), key, accepted)
    return SamplerSpec(name, dict(options))


def training_checks(problems: Problems, training: TrainingModel) -> int | BaseDistribution:
    """The batch size (fixed or searched) and the early-stopping monitor."""
    es = training.early_stopping
    if es and es.monitor not in ("score", "val_loss", "loss"):
        problems.add(
            ("training", "early_stopping", "monitor"),
            f"expected score, val_loss or loss, got {es.monitor!r}",
        )
    batch = parse_param(problems, ("training", "batch_size"), BATCH_SIZE, training.batch_size)
    return 32 if batch is None else batch
