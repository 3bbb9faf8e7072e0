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

import datetime as _dt
import html
import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from automl.errors import AutoMLError

#: Per-epoch curves read from the trial user attribute `history`, in plotting order:
#: (key, subplot column, line dash).
CURVES = (("loss", 1, "solid"), ("val_loss", 1, "dot"), ("score", 2, "solid"))
HISTORY_ATTR = "history"
_PALETTE = (
    "#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A",
    "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
)  # fmt: skip
_WIDE = {"Parallel coordinates", "Learning curves"}


class ReportError(AutoMLError):
    """A report that cannot be built or written as asked."""


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
    from automl import load_spec
    from automl.leaderboard import leaderboard
    from automl.storage import open_study, study_dir

    spec = load_spec(space_path, plugins)
    study = open_study(spec, storage, create=False)
    rows = leaderboard(study, spec.study.direction)
    directory = Path(model_dir) if model_dir is not None else study_dir(spec) / "best"
    card = read_card(directory, required=model_dir is not None)
    page = build_report(
        study,
        title=f"Study {spec.study.name}",
        metric_names=[spec.study.metric],
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


# --- plots ---------------------------------------------------------------------------------------


def _plots(
    study: optuna.Study, trials: list[FrozenTrial], metric_names: list[str]
) -> list[tuple[str, Any]]:
    """(title, plotly figure or a note saying why there is none), in page order."""
    import optuna.visualization as vis

    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    multi = len(study.directions) > 1
    target: dict[str, Any] = {"target_name": metric_names[0]}
    if multi:  # Optuna's single-objective plots need the objective to show
        target["target"] = _first_value
    plots: list[tuple[str, Any]] = []
    none_yet = "No complete trial yet."
    history = vis.plot_optimization_history(study, **target) if complete else none_yet
    plots.append(("Optimization history", history))
    searched = _searched(complete)
    if len(complete) < 2 or not searched:
        why = (
            f"Needs at least 2 complete trials (found {len(complete)})"
            if len(complete) < 2
            else "Needs a parameter searched by every complete trial (none is)"
        )
        plots.append(("Parameter importances", why + " to estimate importances."))
    else:
        plots.append(("Parameter importances", _importances(study, target)))
    if complete and any(t.params for t in complete):
        plots.append(("Parallel coordinates", vis.plot_parallel_coordinate(study, **target)))
    else:
        plots.append(("Parallel coordinates", none_yet if not complete else "No parameter."))
    if multi:
        plots.append(("Pareto front", _pareto(study, complete, metric_names)))
    curves = _learning_curves(trials, metric_names[0])
    plots.append(("Learning curves", curves if curves is not None else "No per-epoch values."))
    return plots


def _first_value(trial: FrozenTrial) -> float:
    return trial.values[0]


def _searched(complete: list[FrozenTrial]) -> list[str]:
    """Parameters every complete trial sampled from a range of more than one value."""
    if not complete:
        return []
    space = optuna.search_space.intersection_search_space(complete)
    return [name for name, dist in space.items() if not dist.single()]


def _importances(study: optuna.Study, target: dict[str, Any]) -> Any:
    """fANOVA importances (seeded, so the page is reproducible), or a note when they fail."""
    import optuna.visualization as vis
    from optuna.importance import FanovaImportanceEvaluator

    try:
        return vis.plot_param_importances(
            study, evaluator=FanovaImportanceEvaluator(seed=0), **target
        )
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:
        return f"Importances could not be estimated: {type(exc).__name__}: {exc}"


def _pareto(study: optuna.Study, complete: list[FrozenTrial], metric_names: list[str]) -> Any:
    import optuna.visualization as vis

    if not complete:
        return "No complete trial yet."
    if len(metric_names) > 3:
        return (
            f"A Pareto front is plotted for 2 or 3 objectives; this study has {len(metric_names)}."
        )
    return vis.plot_pareto_front(study, target_names=list(metric_names))


def trial_curves(trial: FrozenTrial) -> dict[str, list[float | None]]:
    """Per-epoch loss, val_loss and score of a trial: its `history` attribute, else its reported
    intermediate values (the score at each epoch). Non-finite values become gaps (None)."""
    history = trial.user_attrs.get(HISTORY_ATTR)
    curves: dict[str, list[float | None]] = {}
    if isinstance(history, dict):
        for key, _, _ in CURVES:
            values = history.get(key)
            if isinstance(values, list) and values and all(_is_number(v) for v in values):
                curves[key] = [_finite(v) for v in values]
    if "score" not in curves and trial.intermediate_values:
        steps = sorted(trial.intermediate_values)
        # steps are 0-based epochs; a gap in them stays a gap in the curve
        scores: list[float | None] = [None] * (steps[-1] + 1)
        for step in steps:
            scores[step] = _finite(trial.intermediate_values[step])
        curves["score"] = scores
    return curves


def _learning_curves(trials: list[FrozenTrial], metric: str) -> Any:
    """One figure: loss (solid) and val_loss (dotted) on the left, the score on the right."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("loss (solid: training, dotted: validation)", f"{metric} (validation)"),
    )
    shown = 0
    for trial in trials:
        curves = trial_curves(trial)
        if not curves:
            continue
        name = f"trial {trial.number} ({trial.state.name.lower()})"
        color = _PALETTE[shown % len(_PALETTE)]
        first = True
        for key, col, dash in CURVES:
            if key not in curves:
                continue
            fig.add_trace(
                go.Scatter(
                    x=list(range(1, len(curves[key]) + 1)),
                    y=curves[key],
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=first,
                    meta=key,
                    line={"color": color, "dash": dash},
                    marker={"size": 4},
                    hovertemplate=f"{name} {key}<br>epoch %{{x}}: %{{y:.4g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
            first = False
        shown += 1
    if not shown:
        return None
    longest = max(len(trace.x) for trace in fig.data)
    fig.update_xaxes(title_text="epoch", dtick=1 if longest <= 20 else None)
    fig.update_layout(height=460)
    return fig


def _figure_html(fig: Any, number: int) -> str:
    """One figure as a `<div>` and its script; plotly.js itself is in the page's head."""
    import plotly.io as pio

    fig.update_layout(title_text=None, margin_t=40)  # the section's heading is the title
    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=f"figure-{number}",
        config={"displaylogo": False, "responsive": True},
        default_height="460px",
    )


# --- text sections -------------------------------------------------------------------------------


def _summary_html(
    study: optuna.Study, trials: list[FrozenTrial], metric_names: list[str], n_figures: int
) -> str:
    counts = {state: 0 for state in TrialState}
    for t in trials:
        counts[t.state] += 1
    states = ", ".join(f"{n} {s.name.lower()}" for s, n in counts.items() if n) or "none"
    objectives = ", ".join(
        f"{m} ({d.name.lower()})" for m, d in zip(metric_names, study.directions, strict=True)
    )
    items = [
        f"<li>Study <b>{_e(study.study_name)}</b>; objective: {_e(objectives)}</li>",
        f"<li>{len(trials)} trials: {_e(states)}</li>",
    ]
    best = study.best_trials if counts[TrialState.COMPLETE] else []
    if len(study.directions) == 1 and best:
        items.append(
            f"<li>Best: trial {best[0].number}, {_e(metric_names[0])} {_num(best[0].value)}</li>"
        )
    elif best:
        numbers = ", ".join(str(t.number) for t in best)
        items.append(f"<li>Pareto-optimal trials: {_e(numbers)}</li>")
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    items.append(f"<li>{n_figures} figures; generated {now} with Optuna {optuna.__version__}</li>")
    return f'<ul class="summary">{"".join(items)}</ul>'


def _card_html(card: dict[str, Any], study_name: str) -> str:
    """The exported model in a few lines: trial, scores, data, parameters."""
    metric = card.get("metric", "score")
    items = [
        f"Trial {_e(card.get('trial', '?'))} of study {_e(card.get('study', '?'))}"
        + (f", exported {_e(card['exported_at'])}" if card.get("exported_at") else ""),
        f"Validation {_e(metric)}: {_num(card.get('validation_score'))}; "
        f"test {_e(metric)}: {_num(card.get('test_score'))}",
    ]
    data = card.get("data")
    if isinstance(data, dict):
        items.append(
            f"Task: {_e(card.get('task', '-'))}; data: {_e(data.get('name') or '-')} "
            f"({_e(data.get('train_rows', '?'))} train / {_e(data.get('validation_rows', '?'))} "
            f"validation / {_e(data.get('test_rows', '?'))} test rows)"
        )
    if card.get("retrained"):
        items.append("Retrained on train + validation after tuning")
    params = card.get("params") or {}
    items.append(
        "Parameters: "
        + (", ".join(f"<code>{_e(k)}</code>={_e(_short(v))}" for k, v in params.items()) or "-")
    )
    warning = ""
    if card.get("study") != study_name:
        warning = (
            f'<p class="warn">This model card is of study {_e(card.get("study"))}, '
            f"not of the study of this report ({_e(study_name)}).</p>"
        )
    lis = "".join(f"<li>{item}</li>" for item in items)
    return f'<h2>Exported model</h2>{warning}<ul class="card">{lis}</ul>'


def _table_html(rows: list[dict[str, Any]], metric_names: list[str]) -> str:
    if not rows:
        return '<p class="note">No finished trial yet.</p>'
    head = ["rank", "trial", *metric_names, "state", "epochs", "time", "parameters", "reason"]
    lines = ["<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in rows:
        scores = _scores(r.get("score"), len(metric_names))
        params = " ".join(
            f"<code>{_e(k)}</code>={_e(_short(v))}" for k, v in (r.get("params") or {}).items()
        )
        duration = r.get("duration")
        cells = [
            _e(r.get("rank") or "-"),
            _e(r.get("trial")),
            *(_num(s) for s in scores),
            _e(r.get("state")),
            _e(r.get("epochs") or "-"),
            f"{duration:.1f}s" if isinstance(duration, (int, float)) else "-",
            params or "-",
            _e(r.get("reason") or ""),
        ]
        lines.append(
            f'<tr class="state-{_e(r.get("state"))}" data-trial="{_e(r.get("trial"))}">'
            + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>"
        )
    return f'<div class="table"><table>{"".join(lines)}</tbody></table></div>'


def _failures_html(rows: list[dict[str, Any]]) -> str:
    """Failed and pruned trials grouped by reason: the most frequent reason first."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        if r.get("state") in ("fail", "pruned"):
            key = (str(r["state"]), str(r.get("reason") or "no reason recorded"))
            groups.setdefault(key, []).append(r.get("trial"))
    if not groups:
        return '<p class="note">No failed or pruned trial.</p>'
    items = []
    for (state, reason), numbers in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        which = ", ".join(str(n) for n in numbers)
        noun = "trial" if len(numbers) == 1 else "trials"
        items.append(
            f'<li class="state-{_e(state)}"><b>{_e(state)}</b>: {len(numbers)} {noun} '
            f"({_e(which)}): <span class=reason>{_e(reason)}</span></li>"
        )
    return f'<ul class="failures">{"".join(items)}</ul>'


# --- small helpers -------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _scores(score: Any, n: int) -> Sequence[Any]:
    if isinstance(score, (list, tuple)):
        return list(score) + [None] * (n - len(score))
    return [score] + [None] * (n - 1)


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-" if value is None else _e(value)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328}
main{max-width:1400px;margin:0 auto;padding:16px 24px}
h1{font-size:22px;margin:8px 0} h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #d0d7de}
h3{font-size:14px;margin:4px 0}
ul.summary,ul.card{margin:4px 0;padding-left:20px}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}
.plot{border:1px solid #d0d7de;border-radius:6px;padding:8px;min-width:0}
.plot.wide{grid-column:1/-1}
.note{color:#57606a;font-style:italic} .warn{color:#9a6700}
.table{max-height:440px;overflow:auto;border:1px solid #d0d7de;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:13px}
th{position:sticky;top:0;background:#f6f8fa;text-align:left}
th,td{padding:3px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
tr.state-pruned td{color:#57606a} tr.state-fail td{color:#cf222e}
code{font-size:12px;background:#f6f8fa;padding:0 2px;border-radius:3px}
"""
