"""`automl report`: one self-contained HTML file that shows a study.

The page has a summary, the exported model's card (when given), the leaderboard (with the reasons
of failed and pruned trials), Optuna's own plots (optimization history, parameter importances,
parallel coordinates and, for several objectives, the Pareto front) and one figure of per-epoch
learning curves. Plots are plotly figures; plotly.js is inlined once, so the file opens offline and
can be mailed or archived as it is.

`build_report` takes a study and its leaderboard rows, however they were loaded; `write_report`
writes the page atomically; `report_for_space` is the `automl report SPACE` command.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import optuna

from automl.errors import ReportError
from automl.report._html import _CSS, _card_html, _e, _failures_html, _summary_html, _table_html
from automl.report._plots import _WIDE, CURVES, HISTORY_ATTR, _figure_html, _plots, trial_curves

__all__ = [
    "CURVES",
    "HISTORY_ATTR",
    "ReportError",
    "build_report",
    "read_card",
    "report_for_space",
    "trial_curves",
    "write_report",
]


def build_report(
    study: optuna.Study,
    *,
    title: str,
    metric_names: list[str],
    rows: list[dict[str, Any]],
    card: dict[str, Any] | None = None,
) -> str:
    """The HTML text of the report of `study`.

    Args:
        study: the study (any storage); its trials feed the plots.
        title: the page's title.
        metric_names: one name per objective, in the order of `study.directions`.
        rows: the leaderboard (`automl.leaderboard.leaderboard`): rank, trial, score, state, epochs,
            duration, params, reason.
        card: the exported model's `model.json`, shown as a short section.
    """
    directions = [d.name.lower() for d in study.directions]
    if len(metric_names) != len(directions):
        raise ReportError(
            f"build_report: study {study.study_name!r} has {len(directions)} objective(s) "
            f"({', '.join(directions)}), so metric_names needs {len(directions)} name(s), but "
            f"got {len(metric_names)}: {metric_names!r}"
        )
    trials = study.get_trials(deepcopy=False)
    plots = _plots(study, trials, metric_names)
    figures = [(name, fig) for name, fig in plots if not isinstance(fig, str)]
    blocks, number = [], 0
    for name, fig in plots:
        if isinstance(fig, str):
            body = f'<p class="note">{_e(fig)}</p>'
        else:
            number += 1
            body = _figure_html(fig, number)
        wide = " wide" if name in _WIDE else ""
        blocks.append(f'<section class="plot{wide}"><h3>{_e(name)}</h3>{body}</section>')
    parts = [
        f"<h1>{_e(title)}</h1>",
        _summary_html(study, trials, metric_names, len(figures)),
        _card_html(card, study.study_name) if card else "",
        "<h2>Leaderboard</h2>",
        _table_html(rows, metric_names),
        "<h2>Plots</h2>",
        f'<div class="plots">{"".join(blocks)}</div>',
        "<h2>Failed and pruned trials</h2>",
        _failures_html(rows),
    ]
    plotly_js = ""
    if figures:  # plotly.js once, for every figure (include_plotlyjs=False on each)
        from plotly.offline import get_plotlyjs

        plotly_js = f'<script type="text/javascript">{get_plotlyjs()}</script>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style>{plotly_js}</head>\n"
        f'<body data-figures="{len(figures)}"><main>{"".join(parts)}</main></body></html>\n'
    )


def write_report(html_text: str, out: Path) -> Path:
    """Write the page to `out` atomically (a reader never sees half a file); returns `out`."""
    out = Path(out)
    if out.is_dir():
        raise ReportError(
            f"cannot write the report to {out}: expected a file path (e.g. {out / 'report.html'}), "
            "but it is a directory"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {out}: {exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html_text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ReportError(f"cannot write the report to {out}: {exc}") from exc
        raise
    return out


def report_for_space(
    space_path: str,
    out: str | None,
    storage: str | None,
    plugins: tuple[str, ...],
    model_dir: str | None = None,
) -> Path:
    """`automl report SPACE`: the report of a tuned space's study, written to `out`.

    `out` defaults to `runs/<study>/report.html`. The model card is read from `model_dir`'s
    `model.json` when given, else from `runs/<study>/best/` when an export is there.
    """
    # every use of the core's internals is here, so that moving them touches one place
    from automl.leaderboard import leaderboard
    from automl.spec import load_spec
    from automl.storage import open_study, study_dir

    spec = load_spec(space_path, plugins)
    study = open_study(spec, storage, create=False)
    rows = leaderboard(study, spec.study.direction)
    directory = Path(model_dir) if model_dir is not None else study_dir(spec) / "best"
    card = read_card(directory, required=model_dir is not None)
    page = build_report(
        study,
        title=f"Study {spec.study.name}",
        metric_names=list(spec.study.metrics),
        rows=rows,
        card=card,
    )
    return write_report(page, Path(out) if out else study_dir(spec) / "report.html")


def read_card(directory: Path, *, required: bool) -> dict[str, Any] | None:
    """`model.json` of an exported model directory (None when absent and not `required`)."""
    path = directory / "model.json"
    if not path.is_file():
        if not required:
            return None
        raise ReportError(
            f"model directory {directory}: expected the output of `automl export` with a "
            f"model.json, but {path} does not exist"
        )
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(
            f"{path}: expected the JSON model card of `automl export`: {exc}"
        ) from exc
    if not isinstance(card, dict):
        raise ReportError(f"{path}: expected a JSON object, but found {type(card).__name__}")
    return card
