"""The fixed sections (`study`, `data`, `training`) as pydantic models; their errors as Problems.

pydantic checks types, bounds and unknown keys of every fixed section at once; its errors are
translated into our one style (path, line, what was expected, what was found).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from automl.spec._problems import Problems, YamlPath

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
#: a study name becomes a folder under runs/: letters, digits, `-`, `_`, `.`; no separators
STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


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
    if float(match.group(1)) <= 0:
        raise ValueError(f"expected a positive duration, got {value!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class EarlyStoppingModel(_Strict):
    monitor: str = "score"
    patience: int = Field(default=5, ge=0)
    min_delta: float = Field(default=0.0, ge=0)


class StudyModel(_Strict):
    name: str | None = None
    metric: str | list[str] | None = None
    # metric name -> {min: x} and/or {max: y}: trials outside are kept but never chosen
    constraints: dict[str, dict[Literal["min", "max"], float]] | None = None
    trials: int = Field(default=20, gt=0)
    timeout: float | None = None
    sampler: str | dict[str, dict[str, Any] | None] = "tpe"
    pruner: str | dict[str, dict[str, Any] | None] = "median"
    seed: int | None = 0
    storage: str | None = None
    keep_checkpoints: int = Field(default=3, ge=1)
    # `process`: each trial runs in a fresh subprocess (memory is returned after every trial)
    isolation: Literal["none", "process"] = "none"
    # worker processes exit and are replaced after this many trials (bounds slow memory growth)
    recycle_after: int | None = Field(None, gt=0)

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float | None:
        return parse_duration(value)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str | None) -> str | None:
        if value is not None and (not STUDY_NAME.match(value) or ".." in value):
            raise ValueError(
                "expected a name of letters, digits, '-', '_' and '.' (it becomes a folder under "
                "runs/; no '/', no '..')"
            )
        return value


class DataModel(_Strict):
    source: str | dict[str, dict[str, Any] | None]
    validation: float = Field(default=0.2, gt=0, lt=1)
    test: float = Field(default=0.2, ge=0, lt=1)
    stratify: bool = True
    task: Literal["binary", "multiclass", "regression", "forecast"] | None = None
    limit: int | None = Field(None, gt=0)
    # cross-validation folds: K >= 2, 1 (one hold-out split of `validation`), or auto (5 below
    # 10,000 development rows, else 1: automl.data.fold_count)
    folds: int | str = "auto"

    @field_validator("folds", mode="before")
    @classmethod
    def _folds(cls, value: Any) -> int | str:
        if value == "auto" or (
            isinstance(value, int) and not isinstance(value, bool) and value >= 1
        ):
            return value
        raise ValueError(f"expected an integer >= 1 or 'auto', got {value!r}")

    @model_validator(mode="after")
    def _fractions(self) -> DataModel:
        if self.validation + self.test >= 1:
            raise ValueError(
                "`validation + test < 1` must hold (the rest is the training split), but got "
                f"(validation={self.validation}, test={self.test})"
            )
        return self


class TrainingModel(_Strict):
    epochs: int = Field(default=20, gt=0)
    batch_size: int | list[int] | dict[str, Any] = 32
    early_stopping: EarlyStoppingModel | Literal[False] | None = Field(
        default_factory=lambda: EarlyStoppingModel()
    )
    # `balanced` weights each class by n / (k * count) in the loss, for imbalanced data
    class_weight: Literal["balanced"] | dict[str, float] | None = None


_EXPECTATIONS = {
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
    template = _EXPECTATIONS.get(err["type"])
    if template is None:
        msg = str(err["msg"])
        return f"expected: {msg[0].lower()}{msg[1:]}"
    return template.format(**err.get("ctx", {}))


def _is_union_tag(part: Any) -> bool:
    # pydantic inserts the union member tried ("str", "dict[str,...]", "literal[False]") into loc
    return isinstance(part, str) and (
        part in {"str", "int", "float", "bool", "list[int]", "none"}
        or part.startswith(("dict[", "literal[", "list[", "_", "function-"))
    )


def field_names(model: type[BaseModel], sub: tuple[Any, ...]) -> list[str]:
    """Field names of `model`, or of the nested model at `sub` (for unknown-key hints)."""
    current: Any = model
    for part in sub:
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            break
        annotation = fields[part].annotation
        members = getattr(annotation, "__args__", (annotation,))
        candidates = [a for a in members if hasattr(a, "model_fields")]
        current = candidates[0] if candidates else annotation
    return list(getattr(current, "model_fields", {}))


def validate_section(
    problems: Problems, model: type[_Strict], raw: Any, path: YamlPath
) -> Any | None:
    """`model` validated from `raw`; every pydantic error becomes a Problem (None is returned)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.add(path, f"expected a mapping, got {type(raw).__name__} {raw!r}")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
            full = path + loc
            if err["type"] == "extra_forbidden":
                problems.unknown_key(full[:-1], str(full[-1]), field_names(model, loc[:-1]))
            elif err["type"] == "missing":
                problems.add(full, "required key is missing")
            elif err["type"] == "value_error" and not loc:  # a model validator: whole section
                problems.add(full, _expectation(err))
            else:
                problems.add(full, f"{_expectation(err)}, got {err.get('input')!r}")
    return None
