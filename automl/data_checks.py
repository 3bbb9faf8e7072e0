"""Checks of a loaded data set, before the first trial and at `automl validate`.

Features with infinite values, or with missing values (NaN) that no preprocessor of the space
fills, would fail every trial as "NaN at epoch 1". They are refused here instead, naming the
columns and how many rows each, and the preprocessors that fill missing values (those declaring
`fills_missing`, such as `impute`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from automl.errors import DataError

if TYPE_CHECKING:
    from automl.plugins import Catalog
    from automl.spec import Spec

SHOWN = 8  # columns named in a message; the rest are counted


def fillers(spec: Spec, catalog: Catalog) -> tuple[bool, list[str]]:
    """(whether every trial's pipeline fills missing values, the preprocessors that can)."""
    registry = catalog["preprocessor"]
    filled = any(
        all(registry.get(o.name).fills_missing for o in slot.options)
        for slot in spec.slots
        if slot.kind == "preprocessor"
    )
    return filled, [c.name for c in registry if c.fills_missing]


def bad_columns(x: np.ndarray, test: Any, names: list[str] | None) -> list[str]:
    """`'age' (3 rows)` for each column where `test(x)` holds in some row; for images and
    sequences, `12 examples`."""
    if x.ndim != 2:
        count = int(test(x.reshape(len(x), -1)).any(axis=1).sum())
        return [_count(count, "example")] if count else []
    hits = test(x).sum(axis=0)
    columns = [int(j) for j in np.flatnonzero(hits)]
    label = names if names and len(names) == x.shape[1] else None
    shown = [
        f"{repr(label[j]) if label else f'column {j}'} ({_count(int(hits[j]), 'row')})"
        for j in columns[:SHOWN]
    ]
    if len(columns) > SHOWN:
        shown.append(f"and {len(columns) - SHOWN} more")
    return shown


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def check_features(
    x: np.ndarray,
    feature_names: list[str] | None,
    where: str,
    filled: bool,
    can_fill: list[str],
) -> None:
    """Refuse inf anywhere, and NaN when the pipeline does not fill it; name the columns.

    Args:
        x: the features; text matrices (object arrays) are not checked (missing cells are '').
        feature_names: column names of tabular data.
        where: the data set's name for the message (the file).
        filled: every pipeline of the space has a step that fills missing values.
        can_fill: the preprocessors that fill missing values (suggested in the message).
    """
    if x.dtype.kind != "f" or x.size == 0:
        return
    infinite = bad_columns(x, np.isinf, feature_names)
    if infinite:
        raise DataError(
            f"{where}: the features hold infinite values (inf) in {', '.join(infinite)}: no "
            "model can train on them. Replace them (with a number or a missing value) or remove "
            "those rows"
        )
    missing = [] if filled else bad_columns(x, np.isnan, feature_names)
    if missing:
        fix = (
            f"Add a preprocessor that fills them ({', '.join(can_fill)}) as the first step, e.g. "
            f"`preprocessors: [{can_fill[0]}, ...]`"
            if can_fill
            else "No installed preprocessor fills missing values"
        )
        raise DataError(
            f"{where}: the features have missing values (NaN) in {', '.join(missing)}, and no "
            f"preprocessor of this space fills them. {fix}, or remove those rows"
        )


__all__ = ["bad_columns", "check_features", "fillers"]
