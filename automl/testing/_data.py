"""The check of a data source: `task()` and `load()` agree and give rows (with `data_params`)."""

from __future__ import annotations

from typing import Any

from automl.components import TASKS
from automl.data import Dataset
from automl.testing._common import fail


def check_data_source(component: Any, data_params: dict[str, Any] | None) -> None:
    """Load with `data_params` (nothing to do without: loading may need files or a network)."""
    if data_params is None:
        return
    params = {**component.defaults(), **data_params}
    try:
        task = component.task(**params)
        dataset = component.load(**params)
    except Exception as exc:
        raise fail(component, f"raised {type(exc).__name__} with {params}: {exc}") from exc
    if task is not None and task not in TASKS:
        raise fail(
            component, f"expected task() to return None or one of {TASKS}. Received: {task!r}"
        )
    if not isinstance(dataset, Dataset):
        raise fail(
            component, f"expected load() to return an automl.data.Dataset. Received: {dataset!r}"
        )
    n_x, n_y = len(dataset.x), len(dataset.y)
    if n_x == 0 or n_x != n_y:
        raise fail(
            component, f"expected as many rows in x as in y, and some. Received: {n_x} and {n_y}"
        )
    if task is not None and dataset.task not in (None, task):
        raise fail(component, f"task() said {task!r} but load() gave {dataset.task!r}")
