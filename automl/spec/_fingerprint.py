"""The canonical search space of a `Spec` (what its hash covers) and the differences of two.

A study remembers the canonical space it began with; resuming it with a file that changed anything
here (data, seed, training, components and ranges) is refused with the list of changes. The budget,
timeout, sampler and pruner are not part of it: they may change between runs.
"""

from __future__ import annotations

import json
from typing import Any

from automl.spec._model import Spec
from automl.spec._params import to_yaml


def canonical_space(spec: Spec) -> dict[str, Any]:
    """Everything that defines the search space, as plain JSON."""
    training = spec.training
    space = {
        "metric": spec.study.metric if len(spec.study.metrics) == 1 else list(spec.study.metrics),
        **(
            {"constraints": [vars(c) for c in spec.study.constraints]}
            if spec.study.constraints
            else {}
        ),
        "seed": spec.study.seed,  # it decides the data split: a changed seed is another study
        "data": {
            # an empty list parameter (csv `text`) is left out: studies begun before it existed
            # keep their hash
            "source": {
                spec.data.source: {k: v for k, v in spec.data.source_params.items() if v != []}
            },
            "validation": spec.data.validation,
            "test": spec.data.test,
            "stratify": spec.data.stratify,
            "task": spec.data.task,
            "limit": spec.data.limit,
            **({"folds": spec.data.folds} if spec.data.folds != 1 else {}),
        },
        "training": {
            "epochs": training.epochs,
            "batch_size": to_yaml(training.batch_size),
            "early_stopping": vars(training.early_stopping) if training.early_stopping else None,
            **({"class_weight": training.class_weight} if training.class_weight else {}),
        },
        "slots": {
            slot.key: {o.name: {k: to_yaml(v) for k, v in o.params.items()} for o in slot.options}
            for slot in spec.slots
        },
    }
    return json.loads(json.dumps(space, default=str))


def diff_spaces(old: Any, new: Any, prefix: str = "") -> list[str]:
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
