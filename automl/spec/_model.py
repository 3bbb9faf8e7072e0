"""The validated search space: frozen plain data (names, fixed values, Optuna distributions).

A `Spec` holds no plugin objects: it names components, and the registries turn names into
components when a trial is built. That keeps it cheap to hash, compare, print and send to another
process.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from optuna.distributions import BaseDistribution

Direction = Literal["maximize", "minimize"]
#: YAML slot key (= the TrialConfig field it fills) -> (component kind, holds a list of steps)
SLOT_KINDS: dict[str, tuple[str, bool]] = {
    "preprocessors": ("preprocessor", True),
    "model": ("model_family", False),
    "activation": ("activation", False),
    "loss": ("loss", False),
    "optimizer": ("optimizer", False),
    "regularizers": ("regularizer", True),
}


@dataclass(frozen=True)
class Option:
    """One component a slot may choose, each parameter fixed or an Optuna distribution."""

    name: str
    params: dict[str, Any]
    plugin: str = ""


@dataclass(frozen=True)
class Slot:
    """A place in the pipeline filled by one component of `kind`, fixed or chosen among options.

    `key` is the Optuna namespace: the choice is the parameter `key`, and option parameters are
    `key.<option>.<param>`, so each Optuna name always has the same distribution. `field` is the
    `TrialConfig` field it fills (`model`, `preprocessors`, ...).
    """

    key: str
    kind: str
    field: str
    options: tuple[Option, ...]

    @property
    def is_choice(self) -> bool:
        """True when several components compete for this slot."""
        return len(self.options) > 1


@dataclass(frozen=True)
class SamplerSpec:
    """An Optuna sampler or pruner by short name, with its keyword options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Constraint:
    """A bound on a metric that a trial must meet to be chosen (`study.constraints`)."""

    metric: str
    min: float | None = None
    max: float | None = None

    def violation(self, value: float) -> float:
        """How far `value` is outside the bound: <= 0 when feasible (Optuna's convention)."""
        below = self.min - value if self.min is not None else float("-inf")
        above = value - self.max if self.max is not None else float("-inf")
        return max(below, above)


@dataclass(frozen=True)
class StudySpec:
    """The `study:` section. Several metrics make a multi-objective study (a Pareto front)."""

    name: str
    metrics: tuple[str, ...]
    directions: tuple[Direction, ...]
    trials: int
    timeout: float | None
    sampler: SamplerSpec
    pruner: SamplerSpec
    seed: int | None
    storage: str | None
    keep_checkpoints: int
    isolation: str = "none"
    recycle_after: int | None = None
    constraints: tuple[Constraint, ...] = ()

    @property
    def metric(self) -> str:
        """The first (for a single-objective study, the only) metric."""
        return self.metrics[0]

    @property
    def direction(self) -> Direction:
        """The direction of the first metric."""
        return self.directions[0]

    @property
    def multi_objective(self) -> bool:
        """True when the study optimizes several metrics at once."""
        return len(self.metrics) > 1

    def describe_metrics(self, brackets: str = "[]") -> str:
        """`metric accuracy [maximize]`, or `metrics accuracy [maximize], params [minimize]`."""
        pairs = [
            f"{m} {brackets[0]}{d}{brackets[1]}"
            for m, d in zip(self.metrics, self.directions, strict=True)
        ]
        return ("metrics " if self.multi_objective else "metric ") + ", ".join(pairs)


@dataclass(frozen=True)
class DataSpec:
    """The `data:` section. `task` is the file's or the source's (None: known from the data)."""

    source: str
    source_params: dict[str, Any]
    validation: float
    test: float
    stratify: bool
    task: str | None
    limit: int | None
    folds: int | str = "auto"


@dataclass(frozen=True)
class EarlyStoppingSpec:
    """Early stopping settings; `monitor: score` watches the chosen metric on validation."""

    monitor: str
    patience: int
    min_delta: float


@dataclass(frozen=True)
class TrainingSpec:
    """The `training:` section. `batch_size` may be searched (an Optuna distribution)."""

    epochs: int
    batch_size: int | BaseDistribution
    early_stopping: EarlyStoppingSpec | None
    class_weight: str | dict[str, float] | None = None  # "balanced" or {class label: weight}


@dataclass(frozen=True)
class Spec:
    """A validated search space.

    Args:
        study, data, training: the fixed sections.
        slots: the component slots in pipeline order.
        plugins: every local plugin the space needs (its `plugins:` list, then `--plugin`).
        path: the YAML file ("" for a dict).
        space: the canonical search space (plain JSON: what the hash covers).
    """

    study: StudySpec
    data: DataSpec
    training: TrainingSpec
    slots: tuple[Slot, ...]
    plugins: tuple[str, ...] = ()
    path: str = ""
    space: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def space_hash(self) -> str:
        """A hash of everything that defines the search space (not the budget nor the sampler)."""
        blob = json.dumps(self.space, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def slot(self, key: str) -> Slot:
        """The slot called `key` (`model`, `preprocessors.0`, ...)."""
        for s in self.slots:
            if s.key == key:
                return s
        raise KeyError(key)
