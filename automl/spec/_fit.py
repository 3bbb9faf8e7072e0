"""Does the space fit its data? The task, the rank of one example and text columns, each
known from the data source without loading, checked against the components the space names.

`automl validate` reports here what would otherwise fail every trial: a metric of another task,
an lstm on tabular rows, text columns without a text preprocessor.
"""

from __future__ import annotations

from automl.components import rank_problem
from automl.errors import AutoMLError
from automl.plugins import Catalog
from automl.registry import KIND_TITLES
from automl.spec._model import Option, Slot
from automl.spec._problems import Problems


def check_task_fit(
    problems: Problems,
    catalog: Catalog,
    task: str,
    metric_names: tuple[str, ...],
    found: list[Slot],
) -> None:
    """The metrics and every component option must fit the task."""
    for name in metric_names:
        tasks = catalog["metric"].get(name).tasks if name in catalog["metric"] else (task,)
        if task not in tasks:
            problems.add(
                ("study", "metric"),
                f"metric {name!r} does not fit a {task} task; it fits {', '.join(tasks)}",
            )
    for s in found:
        for o in s.options:
            tasks = catalog[s.kind].get(o.name).tasks
            if task not in tasks:
                problems.add(
                    (s.field, o.name),
                    f"{KIND_TITLES[s.kind]} {o.name!r} does not fit a {task} task; "
                    f"it fits {', '.join(tasks)}",
                )


def check_ranks(problems: Problems, catalog: Catalog, source: Option, found: list[Slot]) -> None:
    """Each model family must take the rank of example the data gives (after the preprocessors
    that change it), known without loading: an lstm on tabular rows is an error here."""
    try:
        rank = catalog["data_source"].get(source.name).rank(**source.params)
    except AutoMLError:
        return  # the source's own problem is reported by `data_source`
    if rank is None:
        return
    ranks = {rank}
    for s in found:
        if s.kind == "preprocessor":
            steps = [catalog["preprocessor"].get(o.name).output_rank for o in s.options]
            ranks = {r for step in steps for r in ([step] if step else ranks)}
    for s in found:
        if s.kind != "model_family":
            continue
        for o in s.options:
            accepted = catalog["model_family"].get(o.name).input_ranks
            if accepted is not None and not ranks & set(accepted):
                problems.add((s.field, o.name), rank_problem(o.name, accepted, min(ranks)))


def check_text_inputs(
    problems: Problems, catalog: Catalog, text_columns: tuple[str, ...], found: list[Slot]
) -> None:
    """Text columns need a preprocessor that accepts text; token families need one too."""
    preprocessors = catalog["preprocessor"]
    text_steps = [
        s for s in found if s.kind == "preprocessor"
        and all(preprocessors.get(o.name).accepts_text for o in s.options)
    ]  # fmt: skip
    if text_steps:
        return
    names = [p.name for p in preprocessors if p.accepts_text]
    available = ", ".join(names) or "none registered"
    if text_columns:
        example = f", e.g. preprocessors: [{names[0]}]" if names else ""
        problems.add(
            ("preprocessors",),
            f"the data has text columns ({', '.join(text_columns)}), which need a text "
            f"preprocessor to become numbers: add one to `preprocessors` (available: "
            f"{available}){example}",
        )
        return
    for s in found:
        for o in s.options:
            if s.kind == "model_family" and catalog["model_family"].get(o.name).takes_tokens:
                problems.add(
                    ("model", o.name),
                    f"model family {o.name!r} takes token ids from a text preprocessor; add one "
                    f"to `preprocessors` (available: {available})",
                )
