"""Search space (YAML file or dict) -> a validated, frozen, plain-data `Spec`.

Four steps, each its own module: read the file boundedly with the line of every key (`_yaml`,
`_raw`); check the fixed sections with a pydantic schema (`_schema`); resolve component names and
parameters against the plugin registries (`_resolve`, `_params`: ranges become Optuna
distributions); check that the components fit the data (`_fit`: task, rank, text columns). Every
problem is collected, not just the first, each with its YAML path and line, what was expected and
what was found. The canonical space and its hash are in `_fingerprint`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from automl.errors import Problem, SpecError
from automl.plugins import Catalog, load_catalog
from automl.spec import _fit, _resolve
from automl.spec._fingerprint import canonical_space, diff_spaces
from automl.spec._grid import grid_search_space
from automl.spec._model import (
    SLOT_KINDS,
    Constraint,
    DataSpec,
    Direction,
    EarlyStoppingSpec,
    Option,
    SamplerSpec,
    Slot,
    Spec,
    StudySpec,
    TrainingSpec,
)
from automl.spec._params import describe, is_searched, to_yaml
from automl.spec._problems import Problems, YamlPath
from automl.spec._raw import RawSpace, read_space
from automl.spec._schema import (
    STUDY_NAME,
    DataModel,
    StudyModel,
    TrainingModel,
    parse_duration,
    validate_section,
)
from automl.spec._yaml import load_yaml_with_lines, read_yaml

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


def load_spec(
    space: str | Path | Mapping[str, Any],
    plugins: Iterable[str] = (),
    catalog: Catalog | None = None,
) -> Spec:
    """Read and validate a search space.

    Args:
        space: a YAML file, or a dict with the same schema.
        plugins: extra local plugins (`--plugin`), added to the space's own `plugins:` list.
        catalog: registries to validate against. Defaults to `None`: built from the plugins.
    """
    raw = read_space(space, plugins)
    return resolve(raw, catalog if catalog is not None else load_catalog(raw.plugins))


def open_space(
    space: str | Path | Mapping[str, Any], plugins: Iterable[str] = ()
) -> tuple[Spec, Catalog]:
    """The validated `Spec` and the plugin registries it was resolved against (built once)."""
    raw = read_space(space, plugins)
    catalog = load_catalog(raw.plugins)
    return resolve(raw, catalog), catalog


def resolve(raw: RawSpace, catalog: Catalog) -> Spec:
    """Validate a raw space against the registries; every problem is reported at once."""
    problems = Problems(raw.lines, raw.source)
    data = raw.data
    for key in data:
        if key not in TOP_KEYS:
            problems.unknown_key((), str(key), TOP_KEYS)
    study = validate_section(problems, StudyModel, data.get("study"), ("study",))
    data_section = _data_section(problems, data)
    training = validate_section(problems, TrainingModel, data.get("training"), ("training",))
    source, task = None, None
    text_columns: tuple[str, ...] = ()
    if data_section is not None:
        source, task, text_columns = _resolve.data_source(
            problems, catalog, data_section, raw.base_dir
        )
    pending = data_section is None or (task is None and bool(problems))
    slots = _resolve.slots(problems, catalog, data, task, pending)
    slots = _resolve.file_params(problems, catalog, slots, raw.base_dir)
    _fit.check_text_inputs(problems, catalog, text_columns, slots)
    metrics, directions = _resolve.metrics(problems, catalog, data.get("study"), task, pending)
    if task is not None:
        _fit.check_task_fit(problems, catalog, task, metrics, slots)
    if source is not None:
        _fit.check_ranks(problems, catalog, source, slots)
    bounds = _resolve.constraints(problems, catalog, study.constraints if study else None)
    samplers = (
        (
            _resolve.sampler_or_pruner(problems, "sampler", study.sampler),
            _resolve.sampler_or_pruner(problems, "pruner", study.pruner),
        )
        if study is not None
        else None
    )
    if samplers is not None:
        _resolve.check_objectives(problems, catalog, data.get("study"), metrics, samplers)
    batch_size = _resolve.training_checks(problems, training) if training is not None else 32
    problems.raise_if_any()
    assert study is not None and data_section is not None and training is not None
    assert source is not None and samplers is not None
    spec = Spec(
        study=_study_spec(study, raw.source, metrics, directions, samplers, bounds),
        data=DataSpec(
            source=source.name,
            source_params=dict(source.params),
            validation=data_section.validation,
            test=data_section.test,
            stratify=data_section.stratify,
            task=task,
            limit=data_section.limit,
            folds=data_section.folds,
        ),
        training=_training_spec(training, batch_size),
        slots=tuple(slots),
        plugins=raw.plugins,
        path=raw.source,
    )
    _check_grid(problems, spec)
    object.__setattr__(spec, "space", canonical_space(spec))
    return spec


def _data_section(problems: Problems, data: Mapping[str, Any]) -> DataModel | None:
    if "data" not in data:
        problems.add(
            ("data",), "required key is missing (e.g. data: {source: {sklearn: {name: digits}}})"
        )
        return None
    return validate_section(problems, DataModel, data.get("data"), ("data",))


def _study_spec(
    study: StudyModel,
    source: str,
    metrics: tuple[str, ...],
    directions: tuple[str, ...],
    samplers: tuple[SamplerSpec, SamplerSpec],
    bounds: tuple[Constraint, ...],
) -> StudySpec:
    return StudySpec(
        name=study.name or default_study_name(source),
        metrics=metrics,
        directions=directions,  # type: ignore[arg-type]
        trials=study.trials,
        timeout=study.timeout,
        sampler=samplers[0],
        pruner=samplers[1],
        seed=study.seed,
        storage=study.storage,
        keep_checkpoints=study.keep_checkpoints,
        isolation=study.isolation,
        recycle_after=study.recycle_after,
        constraints=bounds,
    )


def default_study_name(source: str) -> str:
    """The file's name without suffix, with characters a folder name should not have replaced."""
    stem = Path(source).stem if source else "study"
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "study"
    return name if STUDY_NAME.match(name) else "study"


def _training_spec(training: TrainingModel, batch_size: Any) -> TrainingSpec:
    es = training.early_stopping
    early = EarlyStoppingSpec(es.monitor, es.patience, es.min_delta) if es else None
    return TrainingSpec(training.epochs, batch_size, early, training.class_weight)


def _check_grid(problems: Problems, spec: Spec) -> None:
    """The grid sampler needs a finite grid: say which parameter is not."""
    if spec.study.sampler.name != "grid":
        return
    try:
        grid_search_space(spec)
    except ValueError as exc:
        raise SpecError(
            [Problem("study.sampler", str(exc), problems.line(("study", "sampler")))], spec.path
        ) from None


__all__ = [
    "SLOT_KINDS",
    "TOP_KEYS",
    "Constraint",
    "DataSpec",
    "Direction",
    "EarlyStoppingSpec",
    "Option",
    "Problems",
    "RawSpace",
    "SamplerSpec",
    "Slot",
    "Spec",
    "StudySpec",
    "TrainingSpec",
    "YamlPath",
    "canonical_space",
    "default_study_name",
    "describe",
    "diff_spaces",
    "grid_search_space",
    "is_searched",
    "load_spec",
    "load_yaml_with_lines",
    "open_space",
    "parse_duration",
    "read_space",
    "read_yaml",
    "resolve",
    "to_yaml",
]
